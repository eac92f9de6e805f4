//! `insights-events validate`: checks NDJSON events against the schemas.
//!
//! The input is read in blocks of whole lines (about 1 MiB each) that worker
//! threads check in parallel; reports are printed in input order. Memory
//! stays bounded: a few blocks in flight, whatever the input's size.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use crossbeam_channel::bounded;

use crate::input::Input;
use insights_events::check::{Invalid, Options, Tally};
use insights_events::loaded::LoadedSchemas;

const BLOCK: usize = 1 << 20;

struct Block {
    index: u64,
    first_line: u64,
    data: Vec<u8>,
}

struct Checked {
    index: u64,
    errors: Vec<(u64, Invalid)>,
    tally: Tally,
}

fn check_block(
    block: Block,
    opts: Options,
    loaded: &LoadedSchemas,
    as_type: Option<&str>,
) -> Checked {
    let mut tally = Tally::default();
    let mut errors = Vec::new();
    for (this, line) in (block.first_line..).zip(block.data.split(|b| *b == b'\n')) {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let checked = match as_type {
            Some(name) => loaded.check_line_as(line, name),
            None => loaded.check_line(line, opts),
        };
        match checked {
            Ok(c) if c.known => tally.valid(&c.event_type),
            // Accepted by --allow-unknown, and counted as unknown.
            Ok(c) => tally.unknown(&c.event_type),
            Err(e) => {
                match (&e.event_type, e.is_unknown_event_type()) {
                    (Some(t), true) => tally.unknown(t),
                    _ => tally.invalid(e.event_type.as_deref()),
                }
                errors.push((this, e));
            }
        }
    }
    Checked {
        index: block.index,
        errors,
        tally,
    }
}

/// Reads `input` into blocks of whole lines; `emit` returns false to stop.
fn read_blocks(input: &Input, mut emit: impl FnMut(Block) -> bool) -> Result<(), String> {
    let mut reader: Box<dyn Read> = input
        .open()
        .map_err(|e| format!("cannot open {}: {e}", input.name()))?;
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK);
    let mut index = 0;
    let mut next_line = 1u64;
    loop {
        // Fill up to BLOCK bytes past what is carried over (more for a huge line).
        let start = buf.len();
        let want = start.max(BLOCK / 2) + BLOCK;
        buf.resize(want, 0);
        let mut filled = start;
        let mut eof = false;
        while filled < want {
            match reader.read(&mut buf[filled..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("cannot read {}: {e}", input.name())),
            }
        }
        buf.truncate(filled);
        let cut = if eof {
            buf.len()
        } else {
            match buf.iter().rposition(|b| *b == b'\n') {
                Some(i) => i + 1,
                None => continue, // one line longer than the block: read more
            }
        };
        let rest = buf.split_off(cut);
        let mut data = std::mem::replace(&mut buf, rest);
        if data.last() == Some(&b'\n') {
            data.pop();
        }
        if !data.is_empty() || !eof {
            let lines = data.iter().filter(|b| **b == b'\n').count() as u64 + 1;
            if !emit(Block {
                index,
                first_line: next_line,
                data,
            }) {
                return Ok(());
            }
            index += 1;
            next_line += lines;
        }
        if eof {
            return Ok(());
        }
    }
}

/// Runs `validate`; returns the exit code.
pub fn run(
    files: &[PathBuf],
    opts: Options,
    loaded: &LoadedSchemas,
    as_type: Option<&str>,
    quiet: bool,
    jobs: usize,
) -> Result<i32, String> {
    let jobs = if jobs == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8)
    } else {
        jobs
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(64 << 10, stdout.lock());
    let mut tally = Tally::default();
    for input in Input::from_args(files) {
        let name = input.name();
        let (block_tx, block_rx) = bounded::<Block>(jobs * 2);
        let (done_tx, done_rx) = bounded::<Checked>(jobs * 2);
        let result = std::thread::scope(|s| -> Result<(), String> {
            for _ in 0..jobs {
                let rx = block_rx.clone();
                let tx = done_tx.clone();
                s.spawn(move || {
                    for b in rx {
                        if tx.send(check_block(b, opts, loaded, as_type)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(block_rx);
            drop(done_tx);
            let input = &input;
            let reader = s.spawn(move || read_blocks(input, |b| block_tx.send(b).is_ok()));
            // Print in input order.
            let mut pending = BTreeMap::new();
            let mut next = 0u64;
            let mut write_err = None;
            for checked in done_rx.iter() {
                pending.insert(checked.index, checked);
                while let Some(c) = pending.remove(&next) {
                    next += 1;
                    tally.merge(&c.tally);
                    if write_err.is_none() {
                        for (line, e) in &c.errors {
                            if let Err(err) = writeln!(out, "{name}:{line}: {e}") {
                                write_err = Some(err);
                                break;
                            }
                        }
                    }
                }
                if write_err.is_some() {
                    break;
                }
            }
            drop(done_rx);
            let read = reader
                .join()
                .unwrap_or_else(|_| Err("reader panicked".into()));
            if let Some(e) = write_err {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    return Ok(());
                }
                return Err(format!("cannot write to stdout: {e}"));
            }
            read
        });
        result?;
    }
    out.flush().ok();
    let (_, invalid) = tally.totals();
    let unknown = tally.unknown_total();
    if !quiet {
        eprintln!("{tally}");
    }
    let rejected = invalid > 0 || (unknown > 0 && !opts.allow_unknown);
    Ok(if rejected { 1 } else { 0 })
}
