//! The `oauthd` binary: runs the command line and maps errors to exit codes
//! (0 success, 1 failure, 2 usage error).

use oauthd::cli::{self, CliError, PasswordSource};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = std::env::args().skip(1).collect();
    let stdin = std::io::stdin();
    let mut lines = stdin.lock();
    let passwords = if stdin.is_terminal() {
        PasswordSource::Prompt
    } else {
        PasswordSource::Line(&mut lines)
    };
    match cli::run(args, passwords, &mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Usage(message)) => {
            // The message ends with the usage of the command it was made in.
            say(&message);
            ExitCode::from(2)
        }
        Err(CliError::Failed(message)) => {
            say(&message);
            ExitCode::from(1)
        }
    }
}

/// Writes `oauthd: MESSAGE` to standard error. A closed standard error (`2>&1 | head -1`) is
/// not a reason to panic: the exit code still tells what happened.
fn say(message: &str) {
    let _ = writeln!(std::io::stderr(), "oauthd: {message}");
}
