"""Build the spaCy zh pipeline Rasa loads (runs in .venv-rasa).

    .venv-rasa/bin/python bot/nlp/build_spacy.py [--gazetteer var/nlp/gazetteer.json] [--out var/nlp/zh_pipeline]

blank zh + pkuseg segmenter (bundled model, never downloaded) + a pkuseg user dictionary
of every gazetteer form (so 重疾绿通 and 温医二院 stay one token) + an entity_ruler whose
patterns are the gazetteer forms (label = Rasa entity name, id = entity value). Rasa's
SpacyEntityExtractor reads doc.ents; bot/components/gazetteer_mapper.py turns ent ids into
entity values. Rebuilds only when the gazetteer or this file changed (stamp file).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: make the bot package importable
    sys.path.insert(0, str(ROOT))
DEFAULT_GAZ = ROOT / "var" / "nlp" / "gazetteer.json"
DEFAULT_OUT = ROOT / "var" / "nlp" / "zh_pipeline"
STAMP = "gazetteer.stamp"
LABELS = ("person", "service", "insurer", "product", "city", "hospital", "disease")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def pkuseg_model_path() -> Path:
    import pkuseg  # the pip package that bundles the model (not spacy_pkuseg)

    return Path(pkuseg.__file__).parent / "models" / "default"


def stamp_for(gazetteer: dict) -> str:
    code = Path(__file__).read_bytes() + Path(__file__).with_name("spacy_components.py").read_bytes()
    return hashlib.sha256(gazetteer.get("hash", "").encode() + code).hexdigest()


def patterns(gazetteer: dict) -> list[dict]:
    out = []
    for label in LABELS:
        for form, value in sorted((gazetteer.get("entities", {}).get(label) or {}).items()):
            if form:
                out.append({"label": label, "pattern": form, "id": value})
    return out


def user_words(gazetteer: dict) -> list[str]:
    words = {f for label in LABELS for f in (gazetteer.get("entities", {}).get(label) or {})}
    words |= set(gazetteer.get("drugs") or [])
    # only forms with Chinese characters: pkuseg already keeps Latin runs and numbers whole
    return sorted(w for w in words if _CJK.search(w) and len(w) >= 2)


def build(gazetteer: dict, out: Path):
    import spacy

    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "pkuseg"}}})
    nlp.tokenizer.initialize(pkuseg_model=str(pkuseg_model_path()), pkuseg_user_dict="default")
    nlp.tokenizer.pkuseg_update_user_dict(user_words(gazetteer))
    import bot.nlp.spacy_components  # noqa: F401  registers split_scripts

    nlp.add_pipe("split_scripts")
    # LOWER: Rasa's SpacyNLP lower-cases text (MDT -> mdt); Chinese is unaffected
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True})
    ruler.add_patterns(patterns(gazetteer))
    out.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out)
    return nlp


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gazetteer", type=Path, default=DEFAULT_GAZ)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args(argv)
    if not args.gazetteer.exists():
        print(f"no gazetteer at {args.gazetteer}: run bot/nlp/export_gazetteer.py first", file=sys.stderr)
        return 2
    gaz = json.loads(args.gazetteer.read_text(encoding="utf-8"))
    stamp = stamp_for(gaz)
    stamp_file = args.out / STAMP
    if not args.force and stamp_file.exists() and stamp_file.read_text().strip() == stamp \
            and (args.out / "config.cfg").exists():
        print(f"spaCy pipeline up to date: {args.out}")
        return 0
    build(gaz, args.out)
    stamp_file.write_text(stamp + "\n")
    print(f"spaCy pipeline built: {args.out} ({len(patterns(gaz))} patterns, {len(user_words(gaz))} user words)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
