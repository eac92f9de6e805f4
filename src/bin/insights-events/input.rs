//! Reading NDJSON inputs line by line, in constant memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;

/// One input: a file, or `-` for stdin.
#[derive(Debug, Clone)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    /// `FILE…`, with no argument meaning stdin.
    pub fn from_args(args: &[PathBuf]) -> Vec<Input> {
        if args.is_empty() {
            return vec![Input::Stdin];
        }
        args.iter()
            .map(|p| {
                if p.as_os_str() == "-" {
                    Input::Stdin
                } else {
                    Input::File(p.clone())
                }
            })
            .collect()
    }

    /// The name used in messages.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".into(),
            Input::File(p) => p.display().to_string(),
        }
    }

    /// The size in bytes, when known (files).
    pub fn len(&self) -> Option<u64> {
        match self {
            Input::Stdin => None,
            Input::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
        }
    }

    pub fn open(&self) -> io::Result<Box<dyn Read>> {
        Ok(match self {
            Input::Stdin => Box::new(io::stdin().lock()),
            Input::File(p) => Box::new(File::open(p)?),
        })
    }

    /// Calls `f(line_number, line, bytes_read_so_far)` for each non-empty
    /// line (without its line ending). Reuses one buffer. `f` returns
    /// `false` to stop early.
    pub fn for_each_line(&self, mut f: impl FnMut(u64, &[u8], u64) -> bool) -> Result<(), String> {
        let reader = self
            .open()
            .map_err(|e| format!("cannot open {}: {e}", self.name()))?;
        let mut reader = BufReader::with_capacity(1 << 20, reader);
        let mut buf = Vec::with_capacity(4096);
        let mut line_no = 0u64;
        let mut read = 0u64;
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| format!("cannot read {}: {e}", self.name()))?;
            if n == 0 {
                return Ok(());
            }
            read += n as u64;
            line_no += 1;
            let line = buf.trim_ascii();
            if line.is_empty() {
                continue;
            }
            if !f(line_no, line, read) {
                return Ok(());
            }
            // Keep memory bounded after one huge line.
            if buf.capacity() > 16 << 20 {
                buf = Vec::with_capacity(4096);
            }
        }
    }
}
