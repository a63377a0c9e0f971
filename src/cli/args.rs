//! Reading command-line arguments: flags, flag values and positional words.

use super::{CliError, usage};

/// Arguments left to read, with helpers for flags and their values.
pub(crate) struct Args(pub Vec<String>);

impl Args {
    /// Removes `--name VALUE` (or `--name=VALUE`) wherever it appears; repeated uses are collected.
    pub fn values(&mut self, name: &str) -> Result<Vec<String>, CliError> {
        let mut found = Vec::new();
        let mut rest = Vec::new();
        let mut words = std::mem::take(&mut self.0).into_iter();
        while let Some(word) = words.next() {
            if word == name {
                found.push(
                    words
                        .next()
                        .ok_or_else(|| usage(format!("{name} needs a value")))?,
                );
            } else if let Some(value) = word.strip_prefix(name).and_then(|w| w.strip_prefix('=')) {
                found.push(value.to_owned());
            } else {
                rest.push(word);
            }
        }
        self.0 = rest;
        Ok(found)
    }

    /// Removes `--name VALUE` and returns the value; given twice is a usage error.
    pub fn value(&mut self, name: &str) -> Result<Option<String>, CliError> {
        let mut values = self.values(name)?;
        match values.len() {
            0 | 1 => Ok(values.pop()),
            _ => Err(usage(format!("{name} given more than once"))),
        }
    }

    /// Removes a bare `--flag`.
    pub fn flag(&mut self, name: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|a| a != name);
        before != self.0.len()
    }

    /// Takes the next positional word.
    pub fn word(&mut self, what: &str) -> Result<String, CliError> {
        match self.0.first() {
            Some(word) if !word.starts_with("--") => Ok(self.0.remove(0)),
            _ => Err(usage(format!("missing {what}"))),
        }
    }

    /// Fails on anything not consumed.
    pub fn done(self) -> Result<(), CliError> {
        match self.0.first() {
            Some(flag) if flag.starts_with('-') => Err(usage(format!("unknown flag {flag}"))),
            Some(extra) => Err(usage(format!("unexpected argument {extra:?}"))),
            None => Ok(()),
        }
    }
}
