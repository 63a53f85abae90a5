"""What every ``python -m seglight.<task>`` does before Hydra reads its command line.

Hydra's override grammar is strict where a shell user is not: a path with an accent
(``input=/data/iné``) stops the lexer, and a Lightning Trainer argument that the YAML does
not list (``trainer.max_steps=2``) needs Hydra's ``++`` prefix. :func:`hydra_entry` wraps a
task so that

* path-valued overrides (:data:`PATH_KEYS`), and a task's free-text ones (``text_keys``:
  export's ``authors="Ada Lovelace,Alan Turing"``), are quoted for Hydra, so any path or
  text a user types works, spaces, commas and non-ASCII characters included;
* ``trainer.<argument>=`` (and ``model.optimizer.<argument>=`` / ``model.scheduler.<...>=``)
  accept every argument of their target without ``+``; a misspelt Trainer argument is one
  line naming the nearest valid ones;
* any other override Hydra cannot parse is one line showing the quoted form to type,
  instead of a lexer trace and the ``HYDRA_FULL_ERROR`` advice;
* a config group option the command cannot use (a classic workflow given to ``train``, a
  network config given to ``predict``) is one line saying what to run instead, and
  ``--help`` lists only the groups and options the command accepts (:data:`COMMAND_GROUPS`);
* :class:`~seglight.errors.SeglightError` raised by the task is one line and exit code 2;
* warnings a user cannot act on are silenced in the entry point (not on import).
"""

from __future__ import annotations

import difflib
import functools
import inspect
import logging
import re
import sys
import warnings
from collections.abc import Callable, Collection, Sequence
from typing import Any

from seglight.errors import ConfigError, exit_on_user_error

#: Overrides whose value is a file or folder path (the last component of a dotted key).
PATH_KEYS = frozenset({
    "input", "output", "ckpt_path", "path", "raw", "seg", "seg1", "seg2", "out", "mask",
    "merge_mask", "decisions", "log", "pred", "gt", "costmap", "model_package", "root_dir",
    "uncertainty_ckpt", "uncertainty_seg", "workflow", "plan", "test_image",
    "data_dir", "log_dir", "output_dir", "default_root_dir",
})

#: Config nodes that stand for the keyword arguments of a callable: any argument may be set.
FREE_FORM = ("trainer", "model.optimizer", "model.scheduler", "callbacks")

#: Hydra flags followed by a value that is not an override.
_FLAGS_WITH_VALUE = frozenset({
    "--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name", "-cn",
    "--config-dir", "-cd", "--experimental-rerun",
})
#: The config groups each command composes: its ``--help`` lists these only, with the
#: options :func:`refusal` lets through (shared parts, ``_*.yaml``, are never choices).
#: Commands not named here list every group, as Hydra does.
COMMAND_GROUPS: dict[str, tuple[str, ...]] = {
    "train": ("model", "data", "data/normalization", "trainer", "callbacks", "logger", "paths",
              "experiment", "hparams_search", "debug"),
    "predict": ("model", "paths"),
    "check": ("model",),
}

_OVERRIDE = re.compile(r"^(?P<prefix>\+{0,2})(?P<key>[A-Za-z_][\w.\-/@:]*)=(?P<value>.*)$", re.S)


@functools.cache
def trainer_arguments() -> tuple[str, ...]:
    """The keyword arguments of ``lightning.Trainer`` (read from the installed Lightning)."""
    from lightning import Trainer

    return tuple(p for p in inspect.signature(Trainer.__init__).parameters if p != "self")


def _quote(value: str) -> str:
    """``value`` as a Hydra quoted string (taken literally, interpolations aside)."""
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    return "'" + value.replace("\\'", "\\\\'").replace("'", "\\'") + "'"


def _is_quoted(value: str) -> bool:
    return len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""


def _quote_path(value: str, multirun: bool, lists: bool = True) -> str:
    """``value`` quoted for Hydra; with ``lists``, ``[a, b]`` is a list of paths, each quoted
    (free text, e.g. export's JSON ``cite=[{...}]``, is quoted whole)."""
    if not value or value == "null" or _is_quoted(value) or value.startswith("${"):
        return value
    if lists and value.startswith("[") and value.endswith("]"):  # quote each path
        items = [v.strip() for v in value[1:-1].split(",") if v.strip()]
        return "[" + ",".join(v if _is_quoted(v) else _quote(v) for v in items) + "]"
    if multirun and "," in value:  # a sweep over paths: quote each choice
        return ",".join(_quote(v) for v in value.split(","))
    return _quote(value)


def _free_form_key(key: str) -> tuple[str, str] | None:
    """``("trainer", "max_steps")`` for ``trainer.max_steps``; None for other keys."""
    for node in FREE_FORM:
        if key.startswith(node + ".") and "." not in key[len(node) + 1:]:
            return node, key[len(node) + 1:]
    return None


def _check_trainer_argument(name: str, override: str) -> None:
    valid = trainer_arguments()
    if name in valid or name == "_target_":
        return
    near = difflib.get_close_matches(name, valid, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(near)}?" if near else f"valid ones: {', '.join(valid)}"
    raise ConfigError(f"{override}: lightning.Trainer has no argument {name!r}; {hint}")


def prepare_overrides(args: Sequence[str], text_keys: Collection[str] = ()) -> list[str]:
    """Rewrite a command line's overrides so Hydra takes them as a user meant them.

    Args:
        args: ``sys.argv[1:]``: Hydra flags and ``key=value`` overrides.
        text_keys: top-level keys whose value is free text, quoted like paths.

    Returns:
        The same arguments, with path values quoted and free-form keys given ``++``.

    Raises:
        ConfigError: a misspelt Trainer argument, or an override Hydra cannot parse even so.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    multirun = any(a in ("-m", "--multirun") for a in args)
    parser = OverridesParser.create()
    out: list[str] = []
    takes_value = False
    for arg in args:
        if takes_value or arg.startswith("-"):
            out.append(arg)
            takes_value = arg in _FLAGS_WITH_VALUE
            continue
        match = _OVERRIDE.match(arg)
        if match is None:
            out.append(arg)  # Hydra reports what it is
            continue
        prefix, key, value = match["prefix"], match["key"], match["value"]
        if key.rsplit(".", 1)[-1] in PATH_KEYS:
            value = _quote_path(value, multirun)
        elif key in text_keys:
            value = _quote_path(value, multirun, lists=False)
        free = _free_form_key(key)
        if free is not None and not prefix:
            if free[0] == "trainer":
                _check_trainer_argument(free[1], arg)
            prefix = "++"
        rewritten = f"{prefix}{key}={value}"
        try:
            parser.parse_overrides([rewritten])
        except OverrideParseException:
            raise ConfigError(
                f"cannot parse the override {arg!r} (Hydra's override syntax); quote the "
                f"value as Hydra reads it: \"{prefix}{key}={_quote(value)}\""
            ) from None
        out.append(rewritten)
    return out


def explain_composition_error(err: Exception, args: Sequence[str], task: str) -> str:
    """One line for a config Hydra cannot compose: an unknown setting or option."""
    from seglight import CONF_DIR

    text = str(err)
    missing = re.search(r"Could not find '([^']+)'", text)
    if missing:
        group = missing.group(1).rpartition("/")[0]
        if task in COMMAND_GROUPS:
            names = _format_options(group_options(group, task))
        else:
            names = ", ".join(sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml")
                                     if not p.name.startswith("_")))
        return f"no config {missing.group(1)!r}; the options are: {names}"
    unknown = re.search(r"Could not override '([^']+)'", text)
    if unknown:
        key = unknown.group(1)
        typed = next((a for a in args if a.lstrip("+").startswith(key + "=")), key)
        return (f"{typed}: there is no setting {key!r}; python -m seglight.{task} --cfg job "
                "lists every setting (a new one is added with +" + typed.lstrip("+") + ")")
    return text.splitlines()[0]


def refusal(command: str, group: str, option: str) -> str | None:
    """Why ``command`` cannot use ``group=option``, with what to run instead; None if it can.

    The ``model`` group holds two kinds of config: networks (trained by ``train``; predict
    runs their checkpoint, ``ckpt_path=``) and the classic workflows, ``classic/<name>``
    (nothing to train; ``predict`` runs them).
    """
    if option.rpartition("/")[2].startswith("_"):
        return f"{group}={option} is a shared part of the {group} configs, not a choice"
    if group != "model":
        return None
    if command == "train" and option.startswith("classic/"):
        return (f"model={option} is a classic workflow: there is nothing to train; run it "
                f"with python -m seglight.predict model={option} input=IMAGES output=DIR")
    if command == "check" and option.startswith("classic/"):
        return (f"model={option} is a classic workflow, not a network: python -m seglight.check "
                "checks networks (conf/model/*.yaml or your own)")
    if command == "predict" and not option.startswith("classic/"):
        return (f"model={option} is a network to train: train it with python -m "
                f"seglight.train model={option}, then predict with python -m seglight.predict "
                "ckpt_path=<its best.ckpt> input=IMAGES output=DIR")
    return None


def group_options(group: str, command: str) -> list[str]:
    """The options of config group ``group`` that ``command`` accepts (``classic/<name>``
    for a config in a folder of the group that is not a group of its own)."""
    from seglight import CONF_DIR

    folder = CONF_DIR / group
    subgroups = {g.removeprefix(group + "/") for g in COMMAND_GROUPS.get(command, ())
                 if g.startswith(group + "/")}
    options = (p.relative_to(folder).with_suffix("").as_posix() for p in folder.rglob("*.yaml"))
    return sorted(o for o in options if o.partition("/")[0] not in subgroups
                  and o.count("/") <= 1 and refusal(command, group, o) is None)


def _format_options(options: Sequence[str]) -> str:
    """``a, b, classic/{x, y}``: the options of one folder together."""
    by_folder: dict[str, list[str]] = {}
    for option in options:
        folder, _, name = option.rpartition("/")
        by_folder.setdefault(folder, []).append(name)
    parts = [", ".join(by_folder.pop("", []))] if "" in by_folder else []
    parts += [f"{folder}/{{{', '.join(names)}}}" for folder, names in by_folder.items()]
    return ", ".join(parts)


def command_help(command: str, args: Sequence[str]) -> str:
    """The command's ``--help``: Hydra's template for it, listing only the groups and
    options the command accepts (:data:`COMMAND_GROUPS`)."""
    import string

    from omegaconf import OmegaConf, open_dict

    cfg = _compose(command, [a for a in args if not a.startswith("-")], hydra_config=True)
    template = str(cfg.hydra.help.template)
    with open_dict(cfg):
        del cfg["hydra"]
    groups = "\n".join(f"{group}: {_format_options(group_options(group, command))}"
                       for group in COMMAND_GROUPS[command])
    return string.Template(template).safe_substitute(
        APP_CONFIG_GROUPS=groups + "\n", CONFIG=OmegaConf.to_yaml(cfg))


def _compose(config_name: str, args: Sequence[str], hydra_config: bool = False) -> Any:
    """Compose ``conf/<config_name>`` with ``args``; a bad key or option is one line."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException

    from seglight import CONF_DIR

    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose(config_name, overrides=list(args), return_hydra_config=hydra_config)
    except HydraException as err:
        raise ConfigError(explain_composition_error(err, args, config_name)) from None
    finally:
        GlobalHydra.instance().clear()


def _check_composes(config_name: str, args: Sequence[str]) -> None:
    """Compose once before Hydra does, so that a bad key (Hydra prints several lines) or a
    group option the command cannot use (a traceback deep in the task) is one line."""
    cfg = _compose(config_name, args, hydra_config=config_name in COMMAND_GROUPS)
    if config_name in COMMAND_GROUPS:
        for group, option in cfg.hydra.runtime.choices.items():
            reason = option and refusal(config_name, group, str(option))
            if reason:
                raise ConfigError(reason)


class _DropAdvertisements(logging.Filter):
    """Drop Lightning's tips advertising its cloud services (printed by every Trainer)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("\N{ELECTRIC LIGHT BULB} Tip")


def quiet_warnings() -> None:
    """Silence warnings and log lines that say nothing a seglight user can act on."""
    # Lightning with torch 2.13: a pytree deprecation inside Lightning's own predict loop.
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
    # seglight's predict step writes files and returns nothing, on purpose.
    warnings.filterwarnings("ignore", message="predict returned None")
    for name in ("lightning.fabric.utilities.rank_zero", "lightning.pytorch.utilities.rank_zero"):
        logging.getLogger(name).addFilter(_DropAdvertisements())
    # bioio logs each reader it tries; seglight picks the reader itself (seglight.io.image).
    logging.getLogger("bioio").setLevel(logging.ERROR)


def hydra_entry(config_name: str, text_keys: Collection[str] = (),
                ) -> Callable[[Callable[[Any], Any]], Callable[[], Any]]:
    """Decorate ``task(cfg)`` into a command-line ``main()`` composing ``conf/<config_name>``.

    ``text_keys``: the task's free-text keys, taken literally (see :func:`prepare_overrides`).

    The task's :class:`~seglight.errors.SeglightError` become one line and exit code 2.
    """
    import hydra

    from seglight import CONF_DIR
    from seglight.config import register_resolvers

    def decorate(task: Callable[[Any], Any]) -> Callable[[], Any]:
        app = hydra.main(version_base="1.3", config_path=str(CONF_DIR),
                         config_name=config_name)(exit_on_user_error(task))

        @functools.wraps(task)
        def main() -> Any:
            register_resolvers()
            try:
                sys.argv[1:] = args = prepare_overrides(sys.argv[1:], text_keys)
                flags = {a for a in args if a.startswith("-")}
                if config_name in COMMAND_GROUPS and flags in ({"--help"}, {"-h"}):
                    print(command_help(config_name, args))
                    return None
                # Plain runs only: flags (-m, --config-dir, --help) and hydra.* keys change
                # what is composed, and Hydra then reports for itself.
                if not any(a.startswith("-") or a.lstrip("+~").startswith("hydra") for a in args):
                    _check_composes(config_name, args)
            except ConfigError as err:
                print(f"error: {err}", file=sys.stderr, flush=True)
                raise SystemExit(2) from None
            quiet_warnings()
            return app()

        return main

    return decorate
