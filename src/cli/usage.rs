//! The one table of commands and their usage: `--help` prints the whole table, `COMMAND
//! --help` the lines of that command, and a mistake one line plus the same lines. A new
//! command is one entry here and one arm in `cli::run`.

/// One line of the usage: a command's words (`|` between alternatives) and what follows them.
pub(crate) struct Command {
    /// E.g. `"app add"`, `"user enable|disable"`.
    pub words: &'static str,
    /// Its arguments, on as many lines as needed (later lines indented to match).
    pub args: &'static str,
    /// A remark printed on its own line below, or "".
    pub note: &'static str,
}

/// Every command, in the order `--help` lists them.
pub(crate) const COMMANDS: &[Command] = &[
    Command {
        words: "serve",
        args: "[--addr 127.0.0.1:8000] [--threads N] [--dev]",
        note: "--dev: a development provider on a throwaway database (or --db), with a user and clients",
    },
    Command {
        words: "backup",
        args: "PATH",
        note: "a consistent copy of the running database, and the key file as PATH.keys",
    },
    Command {
        words: "user add",
        args: "USERNAME [--admin] [--email EMAIL] [--name \"FULL NAME\"]",
        note: "the password from stdin, or prompted for twice",
    },
    Command {
        words: "user passwd",
        args: "USERNAME",
        note: "read like user add's; ends the user's sessions",
    },
    Command {
        words: "user list",
        args: "[--json]",
        note: "",
    },
    Command {
        words: "user remove",
        args: "USERNAME",
        note: "their apps are kept, without owner",
    },
    Command {
        words: "user enable|disable",
        args: "USERNAME",
        note: "",
    },
    Command {
        words: "group add",
        args: "NAME [--member USERNAME]...",
        note: "",
    },
    Command {
        words: "app add",
        args: "--name NAME --client-type confidential|public --grant GRANT[,GRANT...]
          [--redirect-uri URI]... [--post-logout-redirect-uri URI]... [--scopes \"a b\"]
          [--allowed-origin ORIGIN]... [--resource URI]... [--skip-authorization]
          [--owner USERNAME] [--json]",
        note: "GRANT: authorization-code, implicit, password, client-credentials, device-code",
    },
    Command {
        words: "app update",
        args:
            "CLIENT_ID [--name NAME] [--client-type confidential|public] [--grant GRANT[,GRANT...]]
          [--redirect-uri URI]... [--post-logout-redirect-uri URI]... [--scopes \"a b\"]
          [--allowed-origin ORIGIN]... [--no-allowed-origins] [--resource URI]...
          [--skip-authorization | --no-skip-authorization] [--owner USERNAME] [--json]",
        note: "each flag given replaces that field; the others stay",
    },
    Command {
        words: "app list",
        args: "[--json]",
        note: "",
    },
    Command {
        words: "app remove",
        args: "CLIENT_ID",
        note: "",
    },
    Command {
        words: "app enable|disable",
        args: "CLIENT_ID",
        note: "",
    },
    Command {
        words: "registration-token add",
        args: "[--expires-in SECONDS] [--uses N]",
        note: "an initial access token for registration = \"token\", printed once",
    },
    Command {
        words: "registration-token list",
        args: "[--json]",
        note: "",
    },
    Command {
        words: "registration-token remove",
        args: "ID",
        note: "the clients it registered stay",
    },
    Command {
        words: "keys rotate",
        args: "",
        note: "a new id_token signing key",
    },
    Command {
        words: "keys list",
        args: "[--json]",
        note: "",
    },
    Command {
        words: "cleartokens",
        args: "[--vacuum]",
        note: "--vacuum: then shrink the file",
    },
];

/// What every command line starts with.
const PROGRAM: &str = "oauthd [--db PATH] [--config PATH]";

impl Command {
    /// Whether this command is `path` (`["app", "add"]`) or, for a shorter path, below it.
    fn is_under(&self, path: &[&str]) -> bool {
        let mut words = self.words.split(' ');
        path.iter().all(|given| {
            words
                .next()
                .is_some_and(|w| w.split('|').any(|w| w == *given))
        })
    }

    /// Its line (lines) of the usage, with its note below.
    fn line(&self) -> String {
        let line = format!("{} {}", self.words, self.args);
        match self.note {
            "" => line.trim_end().to_owned(),
            note => format!("{}\n      ({note})", line.trim_end()),
        }
    }

    /// The flags its usage names (`--name` of `[--name VALUE]`).
    fn flags(&self) -> impl Iterator<Item = &'static str> {
        self.args
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|word| word.starts_with("--"))
    }
}

/// The flags of the commands at `path` that take a value, as their usage shows them:
/// `--email` of `[--email EMAIL]`, not `--admin` of `[--admin]`.
pub(crate) fn value_flags(path: &[&str]) -> Vec<&'static str> {
    let mut flags = Vec::new();
    for command in COMMANDS.iter().filter(|c| c.is_under(path)) {
        let words: Vec<&str> = command.args.split_whitespace().collect();
        for pair in words.windows(2) {
            if let [flag, value] = pair {
                let flag = flag.trim_start_matches('[');
                if flag.starts_with("--")
                    && !flag.ends_with(']')
                    && !value.starts_with(['[', '|', '-'])
                {
                    flags.push(flag);
                }
            }
        }
    }
    flags
}

/// Whether `word` starts a command with sub-commands (`app`, `user`, `keys`…).
pub(crate) fn has_sub_commands(word: &str) -> bool {
    COMMANDS.iter().any(|c| {
        c.words
            .split_once(' ')
            .is_some_and(|(first, _)| first == word)
    })
}

/// Whether `path` names a command or a group of them.
pub(crate) fn is_known(path: &[&str]) -> bool {
    COMMANDS.iter().any(|c| c.is_under(path))
}

/// The first flag in `args` that the command `path` does not take (`--flag` or `--flag=value`).
pub(crate) fn unknown_flag<'a>(path: &[&str], args: &'a [String]) -> Option<&'a str> {
    let known: Vec<&str> = COMMANDS
        .iter()
        .filter(|c| c.is_under(path))
        .flat_map(Command::flags)
        .collect();
    args.iter()
        .map(|arg| arg.split('=').next().unwrap_or_default())
        .find(|arg| arg.starts_with("--") && !known.contains(arg))
}

/// The usage of the commands at or below `path`; of every command for an empty path.
pub(crate) fn usage_of(path: &[&str]) -> String {
    let lines: Vec<String> = COMMANDS
        .iter()
        .filter(|c| c.is_under(path))
        .map(Command::line)
        .collect();
    match path {
        [] => format!(
            "usage: {PROGRAM} <command>
       oauthd --help | --version | <command> --help
  --db defaults to $OAUTHD_DB, else ./oauthd.sqlite3;
  --config to $OAUTHD_CONFIG, else ./oauthd.toml when it exists
commands:
  {}",
            lines.join("\n  ")
        ),
        _ => format!(
            "usage: {PROGRAM} {}",
            lines.join(&format!("\n       {PROGRAM} "))
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_selects_its_commands() {
        let app_add = usage_of(&["app", "add"]);
        assert!(app_add.starts_with("usage: oauthd [--db PATH] [--config PATH] app add --name"));
        assert!(!app_add.contains("app list"), "{app_add}");
        let app = usage_of(&["app"]);
        for line in ["app add", "app list", "app remove", "app enable|disable"] {
            assert!(app.contains(line), "{line}: {app}");
        }
        assert!(!app.contains("user add"), "{app}");
        assert!(usage_of(&["user", "disable"]).contains("user enable|disable USERNAME"));
        assert_eq!(
            usage_of(&["cleartokens"]),
            format!(
                "usage: {PROGRAM} cleartokens [--vacuum]\n      (--vacuum: then shrink the file)"
            )
        );
    }

    #[test]
    fn the_whole_usage_lists_every_command_once() {
        let all = usage_of(&[]);
        for command in COMMANDS {
            assert_eq!(all.matches(&command.line()).count(), 1, "{}", command.words);
        }
    }

    #[test]
    fn flags_come_from_the_usage() {
        let args = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        let add = ["app", "add"];
        let given = args(&[
            "--name",
            "x",
            "--scopes=a b",
            "--json",
            "--redirect-uri",
            "u",
        ]);
        assert_eq!(unknown_flag(&add, &given), None);
        let given = args(&["--name", "x", "--nmae=y", "--foo"]);
        assert_eq!(unknown_flag(&add, &given), Some("--nmae"));
        assert_eq!(
            unknown_flag(&["keys", "list"], &args(&["--yaml"])),
            Some("--yaml")
        );
        assert_eq!(
            unknown_flag(&["user", "add"], &args(&["bob", "--admin"])),
            None
        );
    }

    #[test]
    fn value_flags_come_from_the_usage() {
        assert_eq!(value_flags(&["user", "add"]), ["--email", "--name"]);
        assert_eq!(value_flags(&["group", "add"]), ["--member"]);
        let update = value_flags(&["app", "update"]);
        for flag in ["--name", "--grant", "--redirect-uri", "--scopes", "--owner"] {
            assert!(update.contains(&flag), "{flag}: {update:?}");
        }
        for flag in ["--skip-authorization", "--no-skip-authorization", "--json"] {
            assert!(!update.contains(&flag), "{flag}: {update:?}");
        }
        assert_eq!(value_flags(&["cleartokens"]), Vec::<&str>::new());
    }

    #[test]
    fn groups_and_commands_are_known() {
        assert!(has_sub_commands("app") && has_sub_commands("keys"));
        assert!(!has_sub_commands("serve") && !has_sub_commands("apps"));
        assert!(is_known(&["keys", "rotate"]) && is_known(&["backup"]));
        assert!(!is_known(&["keys", "frob"]) && !is_known(&["frob"]));
    }
}
