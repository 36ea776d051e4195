#!/usr/bin/env python3
"""Judges Gloss's spaCy export with spaCy, and makes .spacy files with spaCy.

Usage:
  spacy_check.py check EXPORT.spacy EXPECTED.json
  spacy_check.py make OUT.spacy OUT.json

check: loads EXPORT.spacy with spaCy's own DocBin
(`DocBin().from_disk(path).get_docs(vocab)`, with a bare `Vocab()` and with
`spacy.blank("en").vocab`) and checks that:
- the documents are EXPECTED.json's: a list, one per document in file order,
  of {"text": str, "ents": [[start_char, end_char, label], ...] or null,
  "cats": {name: score}}; "ents": null means the entities are not annotated
  (every token's ent_iob_ is ""), [] that the document has none (every
  token "O");
- the file is what spaCy itself writes for those documents: the same tokens
  (Gloss's) with EXPECTED's entities and cats, packed by
  `DocBin(attrs=["ENT_IOB", "ENT_TYPE"])`, unpack to the same map (version,
  attrs, token hashes, spaces, lengths, sorted strings, cats, flags, span
  groups).

make: writes OUT.spacy with spaCy (`spacy.blank("en")`'s tokenizer, DocBin's
default attrs) from a few texts in several scripts (emoji, Arabic, combining
accents, line breaks and double spaces) with entities and cats, words whose
spaces are unknown, and an empty document, and OUT.json with what a reader
must find in it, in check's shape.

Exits 0 when everything agrees, 1 with one line per disagreement otherwise,
2 on wrong usage.
"""

import json
import sys
import zlib


def documents(docs):
    found = []
    for doc in docs:
        annotated = any(token.ent_iob_ != "" for token in doc)
        ents = [[e.start_char, e.end_char, e.label_] for e in doc.ents]
        found.append(
            {
                "text": doc.text,
                "ents": ents if annotated or ents else None,
                "cats": dict(doc.cats),
            }
        )
    return found


def check(path, expected_path):
    import spacy
    import srsly
    from spacy.tokens import Doc, DocBin
    from spacy.vocab import Vocab

    with open(expected_path, encoding="utf-8") as f:
        expected = json.load(f)
    problems = []
    for name, vocab in [("Vocab()", Vocab()), ('blank("en")', spacy.blank("en").vocab)]:
        docs = list(DocBin().from_disk(path).get_docs(vocab))
        got = documents(docs)
        if len(got) != len(expected):
            problems.append(f"{name}: {len(got)} documents, expected {len(expected)}")
        for index, (doc, want) in enumerate(zip(got, expected)):
            for key in ("text", "ents", "cats"):
                if doc[key] != want[key]:
                    problems.append(
                        f"{name}: document {index} {key} is {doc[key]!r}, expected {want[key]!r}"
                    )

    # What spaCy writes for the same tokens, entities and cats.
    vocab = Vocab()
    loaded = list(DocBin().from_disk(path).get_docs(vocab))
    rebuilt = []
    for doc, want in zip(loaded, expected):
        words = [token.text for token in doc]
        spaces = [bool(token.whitespace_) for token in doc]
        again = Doc(Vocab(), words=words, spaces=spaces)
        if want["ents"] is not None:
            spans = []
            for start, end, label in want["ents"]:
                span = again.char_span(start, end, label=label)
                if span is None:
                    problems.append(
                        f"entity {start}..{end} of {want['text']!r} is not on token edges"
                    )
                    continue
                spans.append(span)
            again.set_ents(spans, default="outside")
        again.cats = want["cats"]
        rebuilt.append(again)
    theirs = srsly.msgpack_loads(
        zlib.decompress(DocBin(attrs=["ENT_IOB", "ENT_TYPE"], docs=rebuilt).to_bytes())
    )
    with open(path, "rb") as f:
        ours = srsly.msgpack_loads(zlib.decompress(f.read()))
    for key in sorted(set(ours) | set(theirs)):
        if ours.get(key) != theirs.get(key):
            problems.append(
                f"`{key}` differs from spaCy's DocBin: ours {ours.get(key)!r}, spaCy's {theirs.get(key)!r}"
            )

    for problem in problems:
        print(problem)
    if problems:
        return 1
    ents = sum(len(d["ents"] or []) for d in expected)
    print(
        f"spaCy {spacy.__version__}: {len(expected)} documents, {ents} entities, "
        "texts, entities and cats as expected; the same map as spaCy's DocBin"
    )
    return 0


# Texts, entities (by their text and label) and cats for `make`.
SAMPLES = [
    (
        "Angela Merkel visited New York  on Monday.\nShe liked it.",
        [("Angela Merkel", "PERSON"), ("New York", "GPE"), ("Monday", "DATE")],
        {"positive": 1.0, "negative": 0.0},
    ),
    (
        "Café 😀 in القاهرة met José\u0301 and Zoë.",
        [("القاهرة", "GPE"), ("José\u0301", "PERSON"), ("Zoë", "Friend")],
        {"positive": 0.0, "negative": 0.75},
    ),
    ("No entities here, annotated.", [], {}),
]


def make(out_path, json_path):
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    docs = []
    for text, ents, cats in SAMPLES:
        doc = nlp(text)
        spans = []
        for entity, label in ents:
            start = text.index(entity)
            span = doc.char_span(start, start + len(entity), label=label)
            assert span is not None, (text, entity)
            spans.append(span)
        doc.set_ents(spans, default="outside")
        doc.cats = cats
        docs.append(doc)
    # One document spaCy knows nothing about: no entities annotated.
    docs.append(nlp("Unannotated\ttext."))
    # Words without spaces given (spaCy then puts one after every word),
    # and an empty document.
    from spacy.tokens import Doc

    words = Doc(nlp.vocab, words=["Hello", "Paris"])
    words.set_ents([words.char_span(6, 11, label="GPE")], default="outside")
    docs.append(words)
    docs.append(nlp(""))
    DocBin(docs=docs).to_disk(out_path)
    with open(json_path, "w", encoding="utf-8") as f:
        lines = [json.dumps(d, ensure_ascii=False) for d in documents(docs)]
        f.write("[\n" + ",\n".join(lines) + "\n]\n")
    print(f"spaCy {spacy.__version__}: wrote {len(docs)} documents")
    return 0


def main(argv):
    if len(argv) != 4 or argv[1] not in ("check", "make"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    if argv[1] == "check":
        return check(argv[2], argv[3])
    return make(argv[2], argv[3])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
