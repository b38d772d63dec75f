"""The fish completion script, rendered from the command specs."""

from __future__ import annotations

from modreg.cli.completion.spec import HEADER, CommandSpec, OptionSpec, quote

__all__ = ["render_fish"]

_FISH_HELPERS = r"""
function __modreg_entries
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
    test -f "$dir/modreg.toml"; or return
    for file in $dir/models/*.toml $dir/models/*.yaml $dir/models/*.yml
        string replace -r '\.[^.]*$' '' (basename $file)
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
    lines = [f"# fish completion for modreg. {HEADER}", "# Install: copy it to ~/.config/fish/completions/modreg.fish."]
    lines += [f"set -g __modreg_valued {' '.join(valued)}", _FISH_HELPERS.strip("\n"), "", "complete -c modreg -f"]
    for spec in specs:
        condition = _fish_condition(spec)
        for sub, text in spec.children:
            lines.append(f"complete -c modreg -n {quote(condition)} -a {quote(sub)} -d {quote(text)}")
        if not spec.subcommands and spec.argument == "entry":
            lines.append(f"complete -c modreg -n {quote(condition)} -a '(__modreg_entries)'")
        elif not spec.subcommands and spec.argument == "file":
            lines.append(f"complete -c modreg -n {quote(condition)} -F")
        for option in spec.options:
            lines.append(_fish_option(condition, option))
    lines.append("")
    return "\n".join(lines)


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
        if option.choices:
            parts.append(f"-x -a {quote(' '.join(option.choices))}")
        elif option.kind == "entry":
            parts.append("-x -a '(__modreg_entries)'")
        elif option.kind == "dir":
            parts.append("-x -a '(__fish_complete_directories)'")
        elif option.kind == "file":
            parts.append("-r -F")
        else:
            parts.append("-x")
    parts.append(f"-d {quote(option.help)}")
    return " ".join(parts)
