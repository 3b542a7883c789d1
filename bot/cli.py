"""The ``auskunft`` command line: kb validate/build/watch, ask, model provisioning, train, run, serve, stop."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import List, Optional

from bot.config.settings import PROJECT_ROOT, Settings, get_settings
from bot.errors import AuskunftError


def _settings(args: argparse.Namespace) -> Settings:
    settings = get_settings()
    if getattr(args, "kb", None):
        settings.kb_dir = Path(args.kb).resolve()
    return settings


def cmd_model_provision(args: argparse.Namespace) -> int:
    """Provision the default embedding model and the German spaCy pipeline."""
    from bot.embedding.provision import ProvisionError, provision
    from bot.nlu.spacy_de import build_german_pipeline

    settings = _settings(args)
    if settings.embedding_model and Path(settings.embedding_model) != settings.default_model_dir:
        print(f"embedding model configured: {settings.embedding_model} (default not provisioned)", file=sys.stderr)
    else:
        try:
            provision(settings.default_model_dir, log=lambda line: print(line, file=sys.stderr), force=args.force)
        except ProvisionError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
    build_german_pipeline(settings.spacy_model_dir, force=args.force)
    print(f"spaCy German pipeline present: {settings.spacy_model_dir}", file=sys.stderr)
    return 0


def cmd_kb_validate(args: argparse.Namespace) -> int:
    """Validate every kb file; exit 1 with file:line: field: message lines on problems."""
    from bot.kb import KbValidationError, load_kb

    settings = _settings(args)
    try:
        kb = load_kb(settings.kb_dir)
    except KbValidationError as err:
        print(err, file=sys.stderr)
        print("fix the files above and run 'auskunft kb validate' again", file=sys.stderr)
        return 1
    langs = {lang: sum(e.lang == lang for e in kb.entries) for lang in ("de", "en")}
    print(f"{len(kb.entries)} entries OK ({langs['de']} de, {langs['en']} en) in {settings.kb_dir}")
    return 0


def cmd_kb_check(args: argparse.Namespace) -> int:
    """Check the kb as an editor needs it: errors and warnings with file, line and what to do (de/en)."""
    from bot.kb.check import run_check

    settings = _settings(args)
    layers = _agencies(settings, args).layer_dirs()  # every agency's layers, each once
    codes = []
    for layer in layers:
        if len(layers) > 1:
            print(f"== {layer}", flush=True)
        codes.append(run_check(layer, lang=args.lang, strict=args.strict))
    return max(codes)


def cmd_kb_import(args: argparse.Namespace) -> int:
    """Turn an existing FAQ (saved web page, CSV/XLSX export, markdown folder) into kb files; print the report."""
    from bot.editor.importing import ColumnMap, ImportOptions, import_faq

    options = ImportOptions(out_dir=Path(args.out), owner=args.owner, lang=args.lang, source_url=args.source_url,
                            force=args.force, dry_run=args.dry_run)
    columns = ColumnMap(question=args.question_column, answer=args.answer_column, id=args.id_column,
                        source=args.source_column, lang=args.lang_column, phrasings=args.phrasings_column,
                        tags=args.tags_column)
    report = import_faq(Path(args.source), options, columns, args.format)
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1) if args.json else report.to_text())
    return report.exit_code


def cmd_kb_diff(args: argparse.Namespace) -> int:
    """What a kb change does: test questions and recent citizen questions that would now be handled differently."""
    from bot.editor.diff import run_diff

    settings = _settings(args)
    layers = _agency_layers(settings, args)
    if layers is None:
        return 2
    return run_diff(args.ref, settings.kb_dir, args.recent, args.lang, fail_on_failing_tests=args.strict,
                    layers=layers or None)


def cmd_kb_overlap(args: argparse.Namespace) -> int:
    """Entries the bot cannot tell apart, and phrasings that land on another entry (same model and thresholds)."""
    from bot.editor.overlap import run_overlap

    settings = _settings(args)
    layers = _agency_layers(settings, args)
    if layers is None:
        return 2
    return run_overlap(settings.kb_dir, lang=args.lang, layers=layers or None)


def _agency_layers(settings: Settings, args: argparse.Namespace) -> Optional[List[Path]]:
    """The kb layers of ``--agency`` ([] without it: the kb directory alone); None (message printed) if unknown."""
    from bot.config.agencies import UnknownAgency

    if not getattr(args, "agency", None):
        return []
    try:
        return list(settings.agencies().get(args.agency).layers)
    except UnknownAgency as err:
        print(f"error: {err} (see {settings.agencies_file})", file=sys.stderr)
        return None


def _agencies(settings: Settings, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The agencies to work on: ``--kb DIR`` means that one directory (the default agency), else agencies.yml."""
    from bot.config.agencies import Agencies

    return Agencies.single(settings.kb_dir) if getattr(args, "kb", None) else settings.agencies()


def cmd_kb_build(args: argparse.Namespace) -> int:
    """Build every agency's index from its kb layers and publish it (the running bot picks it up)."""
    from bot.publish.each_agency import publish_each
    from bot.retrieval import assembly
    from bot.run.progress import progress_printer

    settings = _settings(args)
    failed = 0
    builds = publish_each(settings, _agencies(settings, args), assembly.query_encoder(settings),
                          assembly.kb_tuner(settings, progress=progress_printer("fine-tuning on the kb")),
                          progress_for=lambda label: progress_printer(f"{label}embedding"))
    for build in builds:
        label, report = build.label, build.report
        if report is None:
            print(f"{label}{build.error}", file=sys.stderr)
            print(f"{label}the index was NOT changed; the bot keeps serving the last good version", file=sys.stderr)
            failed += 1
            continue
        state = ("unchanged" if report.unchanged
                 else f"published ({report.embedded} of {report.entries} entries embedded)")
        print(f"{label}index {report.version}: {report.entries} entries, {state} in {report.seconds:.1f} s")
        if report.calibration is not None:
            cal = report.calibration
            used = "used" if settings.calibrated_thresholds else "not used: thresholds are fixed"
            print(f"{label}  thresholds calibrated on {cal.probes} probes ({used}): answer {cal.answer_threshold:.3f}, "
                  f"clarify {cal.clarify_threshold:.3f}, margin {cal.min_margin:.3f}")
    return 1 if failed else 0


def cmd_kb_watch(args: argparse.Namespace) -> int:
    """Rebuild and publish the index whenever a kb file changes."""
    from bot.publish.watch import watch
    from bot.retrieval.assembly import query_encoder

    settings = _settings(args)
    watch(settings, query_encoder(settings), interval=args.interval)
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    """Print the decision and the candidates for one question."""
    from bot.calibration import thresholds_for
    from bot.config.agencies import UnknownAgency
    from bot.editor.preview import preview
    from bot.retrieval.assembly import searcher as searcher_for

    settings = _settings(args)
    try:
        agency = settings.agencies().get(args.agency)
    except UnknownAgency as err:
        print(f"error: {err} (see {settings.agencies_file})", file=sys.stderr)
        return 2
    searcher = searcher_for(settings, agency)
    seen = preview(args.question, searcher, thresholds_for(settings, searcher.index().meta),
                   settings.withdraw_overdue, args.lang)
    if args.json:
        print(json.dumps(seen.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"decision: {seen.action} ({seen.reason}, confidence {seen.confidence:.3f})"
          + (f" -> {seen.faq_id}" if seen.faq_id else ""))
    print(f"language: {seen.lang}   index: {seen.index_version}")
    for rank, cand in enumerate(seen.candidates, start=1):
        print(f"  {rank}. {cand.score:.3f}  {cand.faq_id:<40} {cand.title}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Evaluate the bot and baselines on labelled messages; thresholds come from --dev only."""
    from bot.evaluation.metrics import REPORT_KEYS
    from bot.evaluation.plots import write_plots
    from bot.evaluation.report import evaluate
    from bot.retrieval.assembly import query_encoder
    from bot.run.progress import progress_printer

    settings = _settings(args)
    tuned = None
    if args.finetune:
        from bot.embedding.finetune import FinetuneConfig
        from bot.embedding.st_encoder import Encoder
        from bot.kb.loader import load_kb

        tuned = Encoder(settings.model_name, threads=settings.encoder_threads)
        summary = tuned.fine_tune(load_kb(Path(args.kb_dir)).entries, FinetuneConfig(epochs=args.finetune),
                                  progress=progress_printer("fine-tuning"))
        print(f"fine-tuned on the kb: {summary['steps']} steps, {summary['seconds']} s, "
              f"loss {summary['loss_first']} -> {summary['loss_last']}")
    report, ranked, config = evaluate(
        Path(args.kb_dir), Path(args.test), query_encoder(settings), settings.decision_config(),
        dev_file=Path(args.dev) if args.dev else None, cache_dir=settings.cache_dir,
        baselines=[b for b in args.baselines.split(",") if b], progress=progress_printer, bot_encoder=tuned,
        withdraw=settings.withdraw_overdue, nlu_file=PROJECT_ROOT / "data" / "nlu.yml", live_url=args.e2e,
        calibrated=settings.calibrated_thresholds,
    )
    report["finetune_epochs"] = args.finetune
    if not args.dev:
        print("note: no --dev file; the configured thresholds were used (baselines: defaults)", file=sys.stderr)
    systems = {"bot": report, **report["baselines"]}  # type: ignore[dict-item]
    widths = [max(10, len(name) + 2) for name in systems]
    print(f"{'':<27}" + "".join(f"{name:>{width}}" for name, width in zip(systems, widths, strict=True)))
    for key in REPORT_KEYS:
        print(f"{key:<27}" + "".join(f"{float(r[key]):>{width}.3f}"  # type: ignore[index,arg-type]
                                     for r, width in zip(systems.values(), widths, strict=True)))
    for name, matched in report.get("bot_at_baseline_answered", {}).items():  # type: ignore[attr-defined]
        baseline = report["baselines"][name]  # type: ignore[index]
        if matched:
            print(f"at {name}'s answered-correctly rate ({baseline['answered_correct_rate']:.3f}) the bot answers "
                  f"{matched['answered_correct_rate']:.3f} correctly with {matched['wrong_answer_rate']:.3f} wrong "
                  f"(vs {baseline['wrong_answer_rate']:.3f})")
        else:
            print(f"the bot never reaches {name}'s answered-correctly rate ({baseline['answered_correct_rate']:.3f})")
    lived = report.get("end_to_end")
    if isinstance(lived, dict):
        print("end to end through", args.e2e)
        for key in (*REPORT_KEYS, "agreement_with_offline", "language_mismatch_rate"):
            if key in lived and key not in ("top1", "recall_at_3", "mrr_at_10", "auroc"):
                print(f"  {key:<27}{float(lived[key]):>8.3f}")
        for item in lived.get("disagreements", [])[:20]:
            print(f"  differs: {item['text'][:60]!r}: live {item['live']}, offline {item['offline']}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"written: {args.json}")
    if args.plots:
        for path in write_plots(ranked, config, Path(args.plots), Path(args.test).stem):
            print(f"plot: {path}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Train the Rasa model if config, domain or data changed."""
    from bot.run.services import train_if_needed

    return 0 if train_if_needed(_settings(args), force=args.force) else 1


def cmd_run(args: argparse.Namespace) -> int:
    """Provision, build, train and start all services until Ctrl-C or ``auskunft stop``."""
    from bot.run.services import run_all

    return run_all(_settings(args), train=not args.no_train, watch_kb=not args.no_watch)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run one service in the foreground (no provisioning, no training): for systemd, containers, several hosts."""
    from bot.run.serve import serve

    return serve(_settings(args), args.service, worker=args.worker)


def cmd_stop(args: argparse.Namespace) -> int:
    """Stop a running ``auskunft run`` tidily."""
    from bot.run.services import stop_running

    return stop_running(_settings(args))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (one sub-command per task)."""
    parser = argparse.ArgumentParser(prog="auskunft", description="Auskunft FAQ bot for public agencies")
    sub = parser.add_subparsers(dest="command", required=True)

    model = sub.add_parser("model", help="embedding and spaCy models").add_subparsers(dest="action", required=True)
    prov = model.add_parser("provision", help="create the default models offline (checksummed)")
    prov.add_argument("--force", action="store_true")
    prov.set_defaults(func=cmd_model_provision)

    kb = sub.add_parser("kb", help="the FAQ knowledge base").add_subparsers(dest="action", required=True)
    for name, func, text in (("validate", cmd_kb_validate, "check every kb file"),
                             ("build", cmd_kb_build, "build and publish the index")):
        p = kb.add_parser(name, help=text)
        p.add_argument("--kb", help="kb directory (default: kb/)")
        p.set_defaults(func=func)
    check = kb.add_parser("check", help="editor checks: links, tags, review dates, length, readability (exit 1 "
                          "on errors)")
    check.add_argument("--kb", help="kb directory (default: kb/)")
    check.add_argument("--lang", choices=["de", "en"], default="de", help="language of the messages")
    check.add_argument("--strict", action="store_true", help="also exit 1 on warnings (for CI)")
    check.set_defaults(func=cmd_kb_check)
    diff = kb.add_parser("diff", help="compare the kb with a git ref or another directory: which test questions "
                         "and recent citizen questions get a different answer")
    diff.add_argument("ref", help="git ref (e.g. HEAD, main~1) or a directory with the other kb")
    diff.add_argument("--kb", help="kb directory (default: kb/)")
    diff.add_argument("--recent", type=int, default=200, help="how many recent citizen questions to replay")
    diff.add_argument("--lang", choices=["de", "en"], default="de")
    diff.add_argument("--strict", action="store_true", help="exit 1 if a test question is not answered by its entry")
    diff.add_argument("--agency", help="compare this agency's merged kb layers (agencies.yml) instead of --kb")
    diff.set_defaults(func=cmd_kb_diff)
    overlap = kb.add_parser("overlap", help="near-duplicate entries and phrasings that land on another entry")
    overlap.add_argument("--kb", help="kb directory (default: kb/)")
    overlap.add_argument("--lang", choices=["de", "en"], default="de")
    overlap.add_argument("--agency", help="check this agency's merged kb layers (agencies.yml) instead of --kb")
    overlap.set_defaults(func=cmd_kb_overlap)
    imp = kb.add_parser("import", help="turn an existing FAQ (saved web page, CSV/XLSX export, folder of markdown) "
                        "into kb files, with a report of what was skipped and why")
    imp.add_argument("source", help="saved HTML page (schema.org FAQPage, <details>, <dl> or headings), .json "
                     "(JSON-LD), .csv/.xlsx export, or a folder of .md files")
    imp.add_argument("--out", required=True, help="kb directory to write into, e.g. kb/ordnungsamt")
    imp.add_argument("--owner", required=True, help="department responsible for the entries (front matter 'owner')")
    imp.add_argument("--lang", choices=["de", "en"], help="language of every entry (default: per entry, detected)")
    imp.add_argument("--source-url", help="where the FAQ came from (https://...): the entries' 'source', with "
                     "#anchors where the page has them, and the base for relative links")
    imp.add_argument("--format", choices=["html", "jsonld", "csv", "xlsx", "markdown"],
                     help="read SOURCE as this (default: from its name and content)")
    imp.add_argument("--force", action="store_true", help="overwrite entries edited since the last import")
    imp.add_argument("--dry-run", action="store_true", help="write nothing, only report")
    imp.add_argument("--json", action="store_true", help="print the report as JSON")
    for column, text in (("question", "the question"), ("answer", "the answer (text or HTML)"),
                         ("id", "an id to keep"), ("source", "the entry's URL"), ("lang", "de/en"),
                         ("phrasings", "further phrasings, one per line or separated by |"),
                         ("tags", "tags, separated by , or ;")):
        imp.add_argument(f"--{column}-column", metavar="NAME|N",
                         help=f"table column with {text}: its header or number (default: found by header)")
    imp.set_defaults(func=cmd_kb_import)
    watch = kb.add_parser("watch", help="rebuild the index when kb files change")
    watch.add_argument("--kb")
    watch.add_argument("--interval", type=float, default=1.0, help="seconds between checks")
    watch.set_defaults(func=cmd_kb_watch)

    ask = sub.add_parser("ask", help="show decision and candidates for a question")
    ask.add_argument("question")
    ask.add_argument("--lang", choices=["de", "en"])
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--agency", help="ask through this agency's widget (agencies.yml); default: the default agency")
    ask.set_defaults(func=cmd_ask)

    ev = sub.add_parser("eval", help="measure answer quality of the bot and baselines on labelled messages")
    ev.add_argument("kb_dir", help="kb directory in the project's markdown format")
    ev.add_argument("test", help='JSONL test file: {"text": ..., "expected": [faq ids]} ([] = out of scope)')
    ev.add_argument("--dev", help="JSONL dev file: thresholds are chosen on it, then applied once to the test file")
    ev.add_argument("--baselines", default="bm25,cosine,response_selector",
                    help="comma-separated: bm25, cosine, response_selector (Rasa's stock FAQ model, trained here: "
                         "about a minute; leave it out with e.g. 'bm25,cosine'; empty: none)")
    ev.add_argument("--finetune", type=int, default=0, metavar="EPOCHS",
                    help="fine-tune the embedding model on the kb's phrasings first (SetFit-style; minutes)")
    ev.add_argument("--e2e", metavar="URL", help="also send every test message through the running services' "
                    "/api/chat (e.g. http://127.0.0.1:8000) and report the figures as lived and the agreement")
    ev.add_argument("--json", help="write all figures as JSON")
    ev.add_argument("--plots", help="directory for PNG plots")
    ev.set_defaults(func=cmd_eval)

    train = sub.add_parser("train", help="train the Rasa model if its inputs changed")
    train.add_argument("--force", action="store_true")
    train.set_defaults(func=cmd_train)

    run = sub.add_parser("run", help="start all services (Rasa, actions, web, kb watcher)")
    run.add_argument("--no-train", action="store_true", help="use the existing Rasa model")
    run.add_argument("--no-watch", action="store_true", help="do not rebuild the index on kb changes")
    run.set_defaults(func=cmd_run)
    serve = sub.add_parser("serve", help="run one service in the foreground, as 'run' starts it (never trains; "
                           "for systemd units, containers, several hosts)")
    serve.add_argument("service", choices=["web", "rasa", "actions", "watcher", "worker"])
    serve.add_argument("--worker", type=int, default=1, help="which Rasa process (1 = on rasa_port, 2 = the next "
                       "port, ...)")
    serve.set_defaults(func=cmd_serve)
    stop = sub.add_parser("stop", help="stop a running 'auskunft run'")
    stop.set_defaults(func=cmd_stop)
    from bot.staff.cli import register as register_agent_commands
    register_agent_commands(sub)
    from bot.staff.token_cli import register as register_token_commands
    register_token_commands(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the ``auskunft`` command."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    from bot.privacy.log_filter import install_redacting_filter
    from bot.run import import_guard

    import_guard.install()  # the model packages' code never runs unchecked (SECURITY.md)

    install_redacting_filter()  # kb watcher, evaluation and agent commands log nothing personal
    try:
        return int(args.func(args))
    except AuskunftError as error:  # our own errors say what to do next: no traceback
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
