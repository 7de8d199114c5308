"""Each reader on its fixtures gives exactly the expected documents and sentences."""
from __future__ import annotations

import io
import tarfile

from .corpus_tools import REPO, read_source

from norlm.corpus.settings import SourceConfig
from norlm.corpus.units import plan


def test_nak_tokens_latin1_articles_become_detokenised_sentences(nak):
    docs, issues = read_source(SourceConfig("t", "nak-tokens", (str(nak / "tokens"),)))
    assert docs == [
        ["Lam og piggvar på bryllupsmenyen", "Kokken serverte fisk, lam og «gode viner».", "Gjestene var fornøyde"],
        ["Været blir kaldt i morgen!", "Ta på deg lue og votter."],
    ]
    assert issues.info["decoded-as-latin-1"] == 7 and not issues.counts


def test_nak_text_headers_pilcrows_and_tags(nak):
    docs, issues = read_source(SourceConfig("x", "nak-text", (str(nak / "text" / "vg-2006.txt"),)))
    assert docs == [
        ["Regjeringen la i dag fram statsbudsjettet.", "Finansministeren sa at økonomien er sterk.",
         "Ledigheten er lav."],
        ["Rosenborg vant seriefinalen i går."],
    ]
    assert not issues.counts


def test_nak_xml_declared_latin1_and_utf8(nak):
    docs, issues = read_source(SourceConfig("m", "nak-xml", (str(nak / "xml"),)))
    assert docs == [
        ["Lam og piggvar på bryllupsmenyen", "Brudeparet skålte med gjestene.",
         "Kamskjell, piggvar og lammefilet sto på menyen under den kongelige gallamiddagen.",
         "Og til dessert ble det servert is.", "Over 300 gjester var invitert til festen."],
        ["Snøen kom til Voss", "Det snødde heile natta på Voss.", "Vegane var stengde i fleire timar."],
    ]
    assert not issues.counts


def test_nak_xml_inside_tar_archive_and_undeclared_latin1(nak, tmp_path):
    body = "<text><div type='title'>Ærlig talt</div><div type='text'>Det blåste på fjellet i går.</div></text>"
    archive = tmp_path / "ap.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        utf8 = (nak / "xml/NRK/nno/2015/01/02/20150102-1.xml").read_bytes()
        for name, data in [("AP/nob/a.xml", utf8),
                           ("AP/nob/b.xml", body.encode("latin-1")), ("AP/README", b"not xml")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    docs, issues = read_source(SourceConfig("m", "nak-xml", (str(archive),)))
    assert docs == [["Snøen kom til Voss", "Det snødde heile natta på Voss.", "Vegane var stengde i fleire timar."],
                    ["Ærlig talt", "Det blåste på fjellet i går."]]
    assert not issues.counts


def test_wikipedia_dumps_via_gensim_sections_as_documents():
    nb, issues = read_source(SourceConfig("w", "wikipedia", (str(REPO / "data/fixtures/nowiki-*.xml.bz2"),)))
    assert nb == [
        ["Oslo er hovedstaden i Norge og landets største by.",
         "Byen ligger innerst i Oslofjorden og har rundt 700 000 innbyggere."],
        ["Oslo ble grunnlagt rundt år 1040.", "Byen het Christiania fra 1624 til 1925.",
         "I middelalderen var Oslo en liten handelsby."],
        ["Oslo grenser til Bærum i vest og Lørenskog i øst."],  # "Kategori:Byer i Norge" removed
        ["Trondheim er en by og kommune i Trøndelag.",
         "Byen ble grunnlagt av Olav Tryggvason i 997 og het lenge Nidaros.",
         "Nidarosdomen er en av de viktigste kirkene i landet."],
        ["Norges teknisk-naturvitenskapelige universitet ligger i Trondheim, og byen har mange studenter."],
    ]
    assert dict(issues.dropped) == {"wiki-other-namespace": 1, "wiki-redirect": 1, "wiki-stub": 1}
    nn, issues = read_source(SourceConfig("w", "wikipedia", (str(REPO / "data/fixtures/nnwiki-*.xml.bz2"),), lang="nn"))
    assert [d[0] for d in nn] == [
        "Bergen er ein by og kommune på Vestlandet.", "Byen vart grunnlagd av Olav Kyrre i 1070.",
        "Nynorsk er ei av dei to offisielle målformene i norsk skriftspråk.",
        "Om lag ein tidel av elevane i grunnskulen har nynorsk som hovudmål."]
    assert dict(issues.dropped) == {"wiki-redirect": 1}  # the #OMDIRIGERING page


def test_plain_lines_detokenised_and_blank_separated(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Han kom 29 . desember , sa « Per » .\n\nTo setninger her . Og en til !\nNy linje ( kort ) .\n",
                    encoding="utf-8")
    docs, _ = read_source(SourceConfig("p", "plain", (str(path),), detokenize=True))
    assert docs == [["Han kom 29. desember, sa «Per»."], ["To setninger her.", "Og en til!"], ["Ny linje (kort)."]]
    docs, _ = read_source(SourceConfig("p", "plain", (str(path),), docs="blank", detokenize=True))
    assert docs == [["Han kom 29. desember, sa «Per»."], ["To setninger her.", "Og en til!", "Ny linje (kort)."]]


def test_ndt_train_split_groups_split_at_headlines():
    src = SourceConfig("n", "ndt", (str(REPO / "data/norne/ndt/nob/ap00[12]_*.conll.gz"),), split="train")
    docs, issues = read_source(src)
    assert docs[0][:3] == ["Lam og piggvar på bryllupsmenyen",
                           "Kamskjell, piggvar og lammefilet sto på menyen under den kongelige gallamiddagen.",
                           "Og til dessert: Parfait à la Mette-Marit."]
    assert len(docs) == 17 and sum(map(len, docs)) == 360
    assert not issues.counts
    # dev/test files of the NorNE split never enter the corpus
    dev = SourceConfig("n", "ndt", (str(REPO / "data/norne/ndt/nob/*.conll.gz"),), split="dev")
    test = SourceConfig("n", "ndt", (str(REPO / "data/norne/ndt/nob/*.conll.gz"),), split="test")
    train_files = {f for u in plan((src,))[0] for f in u.files}
    other = {f for s in (dev, test) for u in plan((s,))[0] for f in u.files}
    assert other and not train_files & other
