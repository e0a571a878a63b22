//! Where log lines go: the request lines and the application's own messages through `tracing`,
//! as text (the default) or one JSON object per line (`log_format = "json"`).
//!
//! Text keeps Rocket's own console output as it is and adds the request lines beside it. JSON
//! takes over Rocket's log records too (through the `log` bridge), keeping only its warnings and
//! errors: its informational lines repeat each raw request path, which can carry a one-time link,
//! while the request line here names the route template only.
//!
//! Lines are not written to stdout by the thread that logs them: a request line used to cost a
//! `write(2)` under stdout's lock on the worker thread, once per request. Here a line is appended
//! to a buffer in memory and a writer thread of its own writes what has gathered, one `write(2)`
//! per batch (see `LineBuffer`). Nothing is dropped: when the buffer is full a logging thread
//! waits for the writer, and the guard `install` returns writes every held line before the
//! process ends (only a crash or `kill -9` can lose the last few milliseconds of lines).
//!
//! In JSON mode the request line, the one line every request writes, is encoded by `request`
//! itself, straight into that buffer: the same object `tracing`'s JSON formatter writes (same
//! keys, same order), without its per-field visitor, `serde` calls and per-line allocations —
//! about a tenth of the instructions. Every other line still goes through `tracing`.

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use chrono::{Datelike, Timelike};

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

/// The target of the request lines (`web::request_log`).
pub const REQUEST_TARGET: &str = "hr_portal::request";

/// How long the writer lets lines gather after the first one of a batch arrives: under load a
/// batch then holds many lines for one `write(2)`; alone, a line shows this much later.
const BATCH_PAUSE: Duration = Duration::from_millis(10);

/// Lines held at most (bytes) before a logging thread waits for the writer instead of growing
/// the buffer: about 20 000 request lines, far more than a batch pause gathers at full load.
const MAX_HELD: usize = 4 << 20;

/// Set when JSON logs are installed: where `request` writes its lines itself.
static JSON_REQUEST_LINES: OnceLock<Arc<LineBuffer>> = OnceLock::new();

/// A second installation in one process (tests start many servers) is a no-op.
#[derive(Debug, thiserror::Error)]
#[error("cannot install the logger: {0}")]
pub struct LogSetupError(String);

/// Installs the process's subscriber. `json`: every line an object with `timestamp`, `level`,
/// `target` and the event's fields. Keep the guard until the server has stopped: dropping it
/// writes the lines still held.
pub fn install(json: bool) -> Result<LogGuard, LogSetupError> {
    let guard = LogGuard::start();
    let writer = LineWriter(Arc::clone(&guard.buffer));
    let ours = Targets::new().with_target("hr_portal", LevelFilter::INFO);
    let installed = if json {
        let filter = ours
            .with_target("rocket::launch", LevelFilter::OFF)
            .with_target("rocket::launch_", LevelFilter::OFF)
            .with_default(LevelFilter::WARN);
        let layer = tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_writer(writer)
            .with_filter(filter);
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
            .map_err(|error| LogSetupError(error.to_string()))
            .and_then(|()| bridge_log_records())
    } else {
        let layer = tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_writer(writer)
            .with_filter(ours);
        // No `log` bridge: Rocket keeps its own console logger for its own lines.
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
            .map_err(|error| LogSetupError(error.to_string()))
    };
    // On failure the guard is dropped here, which stops its writer thread.
    installed?;
    if json {
        // Installed once per process (a second `try_init` has failed above).
        let _ = JSON_REQUEST_LINES.set(Arc::clone(&guard.buffer));
    }
    Ok(guard)
}

/// Routes the `log` records of Rocket and of our `rocket::warn!`/`rocket::info!` to `tracing`
/// (JSON mode), behind `RocketRecords`.
fn bridge_log_records() -> Result<(), LogSetupError> {
    log::set_boxed_logger(Box::new(RocketRecords(tracing_log::LogTracer::new())))
        .map_err(|error| LogSetupError(error.to_string()))?;
    // Our own `info` lines (purges, backups, leavers) still reach the filter.
    log::set_max_level(log::LevelFilter::Info);
    Ok(())
}

/// In front of the `log` → `tracing` bridge: Rocket's `info` records (several per request, each
/// repeating the raw path) are dropped here with a level and a prefix comparison, before the
/// bridge builds their metadata and asks the subscriber's filter, which would drop them too —
/// at about 750 instructions each. Warnings, errors and our own records pass on unchanged.
struct RocketRecords(tracing_log::LogTracer);

impl RocketRecords {
    fn wanted(metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn || metadata.target().starts_with("hr_portal")
    }
}

impl log::Log for RocketRecords {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        Self::wanted(metadata) && self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        if Self::wanted(record.metadata()) {
            self.0.log(record);
        }
    }

    fn flush(&self) {}
}

/// The request line: method, route template, status, duration and request id (`web::request_log`).
pub fn request(id: &str, method: &str, route: &str, status: u16, took: Duration) {
    if let Some(buffer) = JSON_REQUEST_LINES.get() {
        buffer.push_with(|line| json_request_line(line, id, method, route, status, took));
        return;
    }
    tracing::info!(
        target: REQUEST_TARGET,
        request_id = id,
        method,
        route,
        status,
        duration_ms = took.as_secs_f64() * 1000.0,
        "request"
    );
}

/// `{"timestamp":…,"level":"INFO","message":"request","request_id":…,"method":…,"route":…,
/// "status":…,"duration_ms":…,"target":"hr_portal::request"}` and a newline, as `tracing`'s
/// JSON formatter writes it (timestamps in UTC to the microsecond, durations to the
/// microsecond).
fn json_request_line(
    line: &mut Vec<u8>,
    id: &str,
    method: &str,
    route: &str,
    status: u16,
    took: Duration,
) {
    line.extend_from_slice(b"{\"timestamp\":\"");
    push_timestamp(line, SystemTime::now());
    line.extend_from_slice(b"\",\"level\":\"INFO\",\"message\":\"request\",\"request_id\":");
    push_json_str(line, id);
    line.extend_from_slice(b",\"method\":");
    push_json_str(line, method);
    line.extend_from_slice(b",\"route\":");
    push_json_str(line, route);
    line.extend_from_slice(b",\"status\":");
    push_uint(line, u64::from(status), 1);
    line.extend_from_slice(b",\"duration_ms\":");
    let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
    push_uint(line, micros / 1000, 1);
    line.push(b'.');
    push_uint(line, micros % 1000, 3);
    line.extend_from_slice(b",\"target\":\"");
    line.extend_from_slice(REQUEST_TARGET.as_bytes());
    line.extend_from_slice(b"\"}\n");
}

/// RFC 3339 in UTC with microseconds: `2026-12-06T17:40:28.387038Z`.
fn push_timestamp(line: &mut Vec<u8>, now: SystemTime) {
    let since = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
    let Some(at) = chrono::DateTime::from_timestamp(seconds, 0) else {
        line.extend_from_slice(b"1970-01-01T00:00:00.000000Z");
        return;
    };
    push_uint(line, u64::try_from(at.year()).unwrap_or(0), 4);
    line.push(b'-');
    push_uint(line, u64::from(at.month()), 2);
    line.push(b'-');
    push_uint(line, u64::from(at.day()), 2);
    line.push(b'T');
    push_uint(line, u64::from(at.hour()), 2);
    line.push(b':');
    push_uint(line, u64::from(at.minute()), 2);
    line.push(b':');
    push_uint(line, u64::from(at.second()), 2);
    line.push(b'.');
    push_uint(line, u64::from(since.subsec_micros()), 6);
    line.push(b'Z');
}

/// `n` in decimal, zero-padded to at least `width` digits.
fn push_uint(line: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    while n > 0 || digits.len() - start < width.max(1) {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    line.extend_from_slice(&digits[start..]);
}

/// A JSON string: quotes, backslashes and control characters escaped. (The values here are
/// route templates, method names and request ids, which never need it; escaped all the same.)
fn push_json_str(line: &mut Vec<u8>, text: &str) {
    line.push(b'"');
    let plain = |byte: &u8| *byte != b'"' && *byte != b'\\' && *byte >= 0x20;
    if text.as_bytes().iter().all(plain) {
        // The usual case: copied whole instead of byte by byte.
        line.extend_from_slice(text.as_bytes());
        line.push(b'"');
        return;
    }
    for &byte in text.as_bytes() {
        match byte {
            b'"' => line.extend_from_slice(b"\\\""),
            b'\\' => line.extend_from_slice(b"\\\\"),
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                line.extend_from_slice(b"\\u00");
                line.push(HEX[usize::from(byte >> 4)]);
                line.push(HEX[usize::from(byte & 0xf)]);
            }
            _ => line.push(byte),
        }
    }
    line.push(b'"');
}

/// Lines waiting for the writer thread.
#[derive(Default)]
struct Held {
    lines: Vec<u8>,
    /// The writer sleeps on `LineBuffer::arrived` and must be woken by the next line. Only then
    /// does a logging thread signal: a wake-up per line would cost a system call per line again.
    writer_asleep: bool,
    /// The guard was dropped: the writer writes what is held and ends.
    closing: bool,
    /// The writer has ended: lines are written at once by the thread that logs them.
    direct: bool,
}

struct LineBuffer {
    held: Mutex<Held>,
    /// A first line after a pause, or the closing.
    arrived: Condvar,
    /// The writer took a batch: room again below `MAX_HELD`.
    taken: Condvar,
}

impl LineBuffer {
    fn held(&self) -> MutexGuard<'_, Held> {
        // A panic while the lock was held leaves whole lines behind; keep using them.
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends one line (the formatter hands over each line whole, in one call).
    fn push(&self, line: &[u8]) {
        self.push_with(|held| held.extend_from_slice(line));
    }

    /// Appends the line `encode` writes (whole lines only).
    fn push_with(&self, encode: impl FnOnce(&mut Vec<u8>)) {
        let mut held = self.held();
        while held.lines.len() >= MAX_HELD && !held.direct {
            held = self
                .taken
                .wait(held)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if held.direct {
            // Still under the lock, so two late lines cannot interleave.
            let mut line = Vec::new();
            encode(&mut line);
            let _ = io::stdout().write_all(&line);
            return;
        }
        // Encoded in place: no line is built anywhere else and copied.
        encode(&mut held.lines);
        let wake = std::mem::take(&mut held.writer_asleep);
        drop(held);
        if wake {
            self.arrived.notify_one();
        }
    }

    /// The writer thread: waits for a line, lets a batch gather, writes it with one call.
    fn write_batches(&self) {
        let mut batch = Vec::new();
        loop {
            let mut held = self.held();
            while held.lines.is_empty() && !held.closing {
                held.writer_asleep = true;
                held = self
                    .arrived
                    .wait(held)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            held.writer_asleep = false;
            if held.lines.is_empty() {
                return; // closing, and everything written
            }
            if !held.closing {
                drop(held);
                std::thread::sleep(BATCH_PAUSE);
                held = self.held();
            }
            // The two buffers change places, so neither is reallocated batch after batch.
            std::mem::swap(&mut held.lines, &mut batch);
            drop(held);
            self.taken.notify_all();
            // A failed write (stdout closed) loses the batch, as a failed direct write would.
            let mut out = io::stdout().lock();
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            batch.clear();
        }
    }
}

/// What the formatter writes each line through (`MakeWriter`).
struct LineWriter(Arc<LineBuffer>);

/// One line's writer, borrowed from `LineWriter`.
struct LineSink<'a>(&'a LineBuffer);

impl<'a> MakeWriter<'a> for LineWriter {
    type Writer = LineSink<'a>;

    fn make_writer(&'a self) -> LineSink<'a> {
        LineSink(&self.0)
    }
}

impl Write for LineSink<'_> {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        self.0.push(line);
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Keeps the log writer thread; dropping it writes every held line and ends the thread.
#[must_use = "dropping the guard stops the log writer; keep it until the server has stopped"]
pub struct LogGuard {
    buffer: Arc<LineBuffer>,
    writer: Option<JoinHandle<()>>,
}

impl LogGuard {
    fn start() -> Self {
        let buffer = Arc::new(LineBuffer {
            held: Mutex::default(),
            arrived: Condvar::new(),
            taken: Condvar::new(),
        });
        let shared = Arc::clone(&buffer);
        // If no thread can be started, lines are written directly, as before.
        let writer = std::thread::Builder::new()
            .name("log-writer".to_string())
            .spawn(move || shared.write_batches())
            .map_err(|_| buffer.held().direct = true)
            .ok();
        LogGuard { buffer, writer }
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.buffer.held().closing = true;
        self.buffer.arrived.notify_one();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        // A line logged between the writer's last look and its end is written here; from now on
        // every line is written by the thread that logs it.
        let mut held = self.buffer.held();
        held.direct = true;
        let _ = io::stdout().write_all(&held.lines);
        held.lines.clear();
        drop(held);
        self.buffer.taken.notify_all();
    }
}

impl std::fmt::Debug for LogGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogGuard")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_line_is_the_json_object_tracing_would_write() {
        let mut line = Vec::new();
        json_request_line(
            &mut line,
            "0a1b2c3d4e5f6a7b",
            "GET",
            "/employees/<id>",
            200,
            Duration::from_micros(1_234_567),
        );
        let text = String::from_utf8(line).unwrap();
        assert!(
            text.ends_with("}\n") && text.matches('\n').count() == 1,
            "{text}"
        );
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["level"], "INFO");
        assert_eq!(value["message"], "request");
        assert_eq!(value["request_id"], "0a1b2c3d4e5f6a7b");
        assert_eq!(value["method"], "GET");
        assert_eq!(value["route"], "/employees/<id>");
        assert_eq!(value["status"], 200);
        assert_eq!(value["duration_ms"], 1234.567);
        assert_eq!(value["target"], REQUEST_TARGET);
        let keys: Vec<&str> = text
            .split("\":")
            .filter_map(|part| part.rsplit('"').next())
            .collect();
        assert_eq!(
            &keys[..9],
            [
                "timestamp",
                "level",
                "message",
                "request_id",
                "method",
                "route",
                "status",
                "duration_ms",
                "target"
            ]
        );
    }

    #[test]
    fn rocket_info_records_stop_before_the_bridge_and_warnings_and_ours_pass() {
        let record = |level, target| {
            RocketRecords::wanted(&log::Metadata::builder().level(level).target(target).build())
        };
        assert!(!record(log::Level::Info, "rocket::server::_"));
        assert!(!record(log::Level::Info, "rocket::launch"));
        assert!(record(log::Level::Warn, "rocket::server"));
        assert!(record(log::Level::Error, "rocket::server::_"));
        assert!(record(log::Level::Info, "hr_portal"));
        assert!(record(log::Level::Info, "hr_portal::app::mail"));
    }

    #[test]
    fn timestamps_are_rfc3339_utc_to_the_microsecond_and_strings_are_escaped() {
        let mut line = Vec::new();
        let at = SystemTime::UNIX_EPOCH + Duration::new(1_796_579_228, 387_038_999);
        push_timestamp(&mut line, at);
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "2026-12-06T17:47:08.387038Z"
        );
        let mut line = Vec::new();
        push_json_str(&mut line, "a\"b\\c\nd\u{1}");
        let text = String::from_utf8(line).unwrap();
        assert_eq!(text, r#""a\"b\\c\u000ad\u0001""#);
        assert_eq!(
            serde_json::from_str::<String>(&text).unwrap(),
            "a\"b\\c\nd\u{1}"
        );
        let mut digits = Vec::new();
        push_uint(&mut digits, 7, 3);
        push_uint(&mut digits, 0, 1);
        push_uint(&mut digits, 12345, 2);
        assert_eq!(digits, b"007012345");
    }
}
