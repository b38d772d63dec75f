"""The fish completion script, rendered from the command specs."""

from __future__ import annotations

from modreg.cli.completion.spec import (
    HEADER,
    PLUGIN_MODELS_AWK,
    VERSIONS_SED,
    CommandSpec,
    OptionSpec,
    builtin_models,
    quote,
    schema_words,
)

__all__ = ["render_fish"]

_FISH_HELPERS = r"""
function __modreg_root
    set -l tokens (commandline -opc)
    set -l dir
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case -r --registry
                set dir $tokens[(math $i + 1)]
            case '--registry=*'
                set dir (string replace -- '--registry=' '' $tokens[$i])
        end
    end
    test -z "$dir"; and set dir $MODREG_REGISTRY
    if test -z "$dir"
        set dir $PWD
        while test -n "$dir"; and not test -f "$dir/modreg.toml"
            set dir (string replace -r '/[^/]*$' '' $dir)
        end
    end
    test -f "$dir/modreg.toml"; and echo $dir
end

function __modreg_values --description 'the words of a value kind'
    set -l root (__modreg_root)
    switch $argv[1]
        case entry
            test -n "$root"; or return
            for file in $root/models/*.toml $root/models/*.yaml $root/models/*.yml
                string replace -r '\.[^.]*$' '' (basename $file)
            end
        case model
            printf '%s\n' __MODELS__
            test -n "$root"; and __AWK__ $root/plugins/*/plugin.toml 2>/dev/null
        case target
            __modreg_values entry; __modreg_values model
        case schema
            printf '%s\n' __SCHEMAS__
            __modreg_values model
        case plugin
            test -n "$root"; or return
            for file in $root/plugins/*/plugin.toml
                basename (dirname $file)
            end
        case template
            test -n "$root"; or return
            for file in $root/templates/*.toml
                basename $file .toml
            end
        case version
            set -l words (__modreg_words)
            test -n "$root"; and __SED__ $root/models/$words[2].toml $root/models/$words[2].yaml $root/models/$words[2].yml 2>/dev/null
            echo current
    end
end

function __modreg_words --description 'the words typed after modreg, without options and their values'
    set -l skip 0
    for token in (commandline -opc)[2..-1]
        if test $skip = 1
            set skip 0
        else if contains -- $token $__modreg_valued
            set skip 1
        else if not string match -q -- '-*' $token
            echo $token
        end
    end
end

function __modreg_at_root
    test (count (__modreg_words)) -eq 0
end

function __modreg_path_is --description 'the command typed so far starts with $argv'
    set -l words (__modreg_words)
    test (count $words) -ge (count $argv); or return 1
    for i in (seq (count $argv))
        test "$words[$i]" = "$argv[$i]"; or return 1
    end
end
"""


def render_fish(specs: list[CommandSpec]) -> str:
    """A fish completion script (`complete -c modreg ...`)."""
    valued = sorted({name for spec in specs for option in spec.options if option.takes_value for name in option.names})
    helpers = _FISH_HELPERS.strip("\n").replace("__MODELS__", " ".join(builtin_models()))
    helpers = helpers.replace("__SCHEMAS__", " ".join(schema_words()))
    helpers = helpers.replace("__AWK__", PLUGIN_MODELS_AWK).replace("__SED__", VERSIONS_SED)
    lines = [f"# fish completion for modreg. {HEADER}",
             "# Install: `modreg completion fish > ~/.config/fish/completions/modreg.fish`."]
    lines += [f"set -g __modreg_valued {' '.join(valued)}", helpers, "", "complete -c modreg -f"]
    for spec in specs:
        condition = _fish_condition(spec)
        for sub, text in spec.children:
            lines.append(f"complete -c modreg -n {quote(condition)} -a {quote(sub)} -d {quote(text)}")
        if not spec.subcommands:
            lines += _fish_arguments(spec, condition)
        for option in spec.options:
            lines.append(_fish_option(condition, option))
    lines.append("")
    return "\n".join(lines)


def _fish_arguments(spec: CommandSpec, condition: str) -> list[str]:
    """One line per positional kind: the first kinds at their position, the last one after them."""
    found = []
    depth = len(spec.path)
    for position, kind in enumerate(spec.arguments):
        last = position == len(spec.arguments) - 1
        test = f"test (count (__modreg_words)) -{'ge' if last else 'eq'} {depth + position}"
        found.append(f"complete -c modreg -n {quote(condition + '; and ' + test)} {_fish_values(kind, spec.argument_choices)}")
    return found


def _fish_values(kind: str, choices: tuple[str, ...]) -> str:
    if kind == "choices":
        return f"-a {quote(' '.join(choices))}"
    if kind in ("file", "dir"):
        return "-F" if kind == "file" else "-a '(__fish_complete_directories)'"
    return f"-a '(__modreg_values {kind})'" if kind else ""


def _fish_condition(spec: CommandSpec) -> str:
    if not spec.path:
        return "__modreg_at_root"
    quoted = " ".join(spec.path)
    children = " ".join(spec.subcommands)
    condition = f"__modreg_path_is {quoted}"
    return f"{condition}; and not __fish_seen_subcommand_from {children}" if children else condition


def _fish_option(condition: str, option: OptionSpec) -> str:
    parts = [f"complete -c modreg -n {quote(condition)}"]
    for name in option.names:
        parts.append(f"-l {name[2:]}" if name.startswith("--") else f"-s {name[1:]}")
    if option.takes_value:
        if option.kind == "file" and not option.choices:
            parts.append("-r -F")
        else:
            parts.append(f"-x {_fish_values('choices' if option.choices else option.kind, option.choices)}".rstrip())
    parts.append(f"-d {quote(option.help)}")
    return " ".join(parts)
