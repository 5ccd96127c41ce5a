//! Reading access-log files: plain or gzip (by magic bytes), in large chunks, lines split
//! with memchr; files read in parallel, one model builder each, merged at the end.

use std::io::Read;
use std::path::Path;

use crate::input::{HEAD_BYTES, Input, Resolved};
use crate::model::ModelBuilder;
use crate::templates::RouteTemplates;

/// Opens a file, through gzip when its first bytes say so.
fn open(path: &Path, shown: &str) -> Result<(Box<dyn Read>, bool), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{shown}: cannot open: {e}"))?;
    let mut buffered = std::io::BufReader::with_capacity(1 << 20, file);
    let gzip = std::io::BufRead::fill_buf(&mut buffered)
        .map_err(|e| format!("{shown}: cannot read: {e}"))?
        .starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        (Box::new(flate2::read::MultiGzDecoder::new(buffered)), true)
    } else {
        (Box::new(buffered), false)
    })
}

/// The first bytes of a file, decompressed, to tell its format from.
fn head(path: &Path, shown: &str) -> Result<(Vec<u8>, bool), String> {
    let (reader, gzip) = open(path, shown)?;
    let mut head = Vec::with_capacity(HEAD_BYTES);
    reader
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| format!("{shown}: cannot read: {e}"))?;
    Ok((head, gzip))
}

/// Reads the lines of a file that start in `[start, end)`: a line that crosses `end`
/// belongs to this range, one that crosses `start` to the previous one. Gzip files are
/// read whole (they cannot be split).
fn read_range(
    path: &Path,
    shown: &str,
    (start, end): (u64, u64),
    format: &Resolved,
    strict: bool,
    builder: &mut ModelBuilder,
) -> Result<u64, String> {
    use std::io::{Seek, SeekFrom};
    let (mut reader, gzip) = if start > 0 {
        let mut file =
            std::fs::File::open(path).map_err(|e| format!("{shown}: cannot open: {e}"))?;
        file.seek(SeekFrom::Start(start - 1))
            .map_err(|e| format!("{shown}: cannot read: {e}"))?;
        (Box::new(file) as Box<dyn Read>, false)
    } else {
        open(path, shown)?
    };
    if let Resolved::Har = format {
        crate::har::read_har(reader, shown, strict, builder)?;
        return Ok(0);
    }
    let mut buffer = vec![0u8; 1 << 20];
    let mut carry: Vec<u8> = Vec::new();
    let mut scratch: Vec<u8> = Vec::new();
    let mut line_no = 0u64;
    // Offset of the next unread byte, and of the line being assembled. A range that
    // starts inside the file begins one byte early: if that byte is a newline, the range
    // starts on a line; if not, the first (partial) line is the previous range's.
    let mut offset = if start > 0 { start - 1 } else { 0 };
    let mut line_start = offset;
    let mut skipping = start > 0;
    loop {
        let n = reader
            .read(&mut buffer)
            .map_err(|e| format!("{shown}: cannot read (line {}): {e}", line_no + 1))?;
        if n == 0 {
            break;
        }
        let chunk = &buffer[..n];
        let mut from = 0;
        for nl in memchr::memchr_iter(b'\n', chunk) {
            let line_end_abs = offset + nl as u64;
            if skipping {
                skipping = false;
            } else if gzip || line_start < end {
                line_no += 1;
                // Most lines lie inside one chunk: read them in place, copying only
                // the line a chunk boundary cut.
                let line = if carry.is_empty() {
                    &chunk[from..nl]
                } else {
                    carry.extend_from_slice(&chunk[from..nl]);
                    &carry
                };
                one_line(line, line_no, shown, format, strict, builder, &mut scratch)?;
            } else {
                return Ok(line_no);
            }
            carry.clear();
            from = nl + 1;
            line_start = line_end_abs + 1;
        }
        if !skipping {
            carry.extend_from_slice(&chunk[from..]);
        }
        offset += n as u64;
        if !gzip && line_start >= end && carry.is_empty() {
            return Ok(line_no);
        }
    }
    if !carry.is_empty() && !skipping && (gzip || line_start < end) {
        line_no += 1;
        one_line(
            &carry,
            line_no,
            shown,
            format,
            strict,
            builder,
            &mut scratch,
        )?;
    }
    Ok(line_no)
}

fn one_line(
    line: &[u8],
    line_no: u64,
    shown: &str,
    format: &Resolved,
    strict: bool,
    builder: &mut ModelBuilder,
    scratch: &mut Vec<u8>,
) -> Result<(), String> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return Ok(());
    }
    match format.parse_line(line, scratch) {
        Ok(record) => builder.add(&record, format.time_is_start()),
        Err(why) if strict => return Err(format!("{shown}:{line_no}: {why}")),
        Err(why) => builder.malformed(shown, line_no, why),
    }
    Ok(())
}

/// Plain files above this size are read as two halves on two threads.
const SPLIT_BYTES: u64 = 32 << 20;

/// Reads many files, two pieces at a time (a big plain file is two pieces), and merges
/// their models in file order, so malformed-line numbers stay right. Each file's format
/// is decided first (see [`Input::resolve`]).
pub fn read_files(
    files: &[(std::path::PathBuf, String)],
    options: &ReadOptions,
) -> Result<ModelBuilder, String> {
    read_files_split_at(files, options, SPLIT_BYTES)
}

/// How to read logs.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    pub input: Input,
    /// Stop at the first malformed line (naming its file and line) instead of counting it.
    pub strict: bool,
    /// Route templates that take precedence over templates inferred from the URLs.
    pub templates: Option<std::sync::Arc<RouteTemplates>>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            input: Input::Auto,
            strict: false,
            templates: None,
        }
    }
}

fn read_files_split_at(
    files: &[(std::path::PathBuf, String)],
    options: &ReadOptions,
    split_bytes: u64,
) -> Result<ModelBuilder, String> {
    let (input, strict) = (&options.input, options.strict);
    let mut formats = Vec::with_capacity(files.len());
    // (file, byte range, whether it continues the previous piece of the same file).
    let mut pieces: Vec<(usize, (u64, u64), bool)> = Vec::new();
    for (i, (path, shown)) in files.iter().enumerate() {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let (head, gzip) = head(path, shown)?;
        let format = input.resolve(&head, shown)?;
        let whole = gzip || matches!(format, Resolved::Har);
        formats.push(format);
        if size > split_bytes && !whole {
            pieces.push((i, (0, size / 2), false));
            pieces.push((i, (size / 2, u64::MAX), true));
        } else {
            pieces.push((i, (0, u64::MAX), false));
        }
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    type Piece = Result<(ModelBuilder, u64), String>;
    let results: Vec<std::sync::Mutex<Option<Piece>>> =
        pieces.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let work = || loop {
        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(&(i, range, _)) = pieces.get(k) else {
            return;
        };
        let (path, shown) = &files[i];
        let mut builder = ModelBuilder::with_templates(options.templates.clone());
        let result = read_range(path, shown, range, &formats[i], strict, &mut builder)
            .map(|lines| (builder, lines));
        *results[k].lock().expect("no panics while holding it") = Some(result);
    };
    std::thread::scope(|scope| {
        scope.spawn(work);
        work();
    });
    let mut total = ModelBuilder::with_templates(options.templates.clone());
    for ((_, shown), format) in files.iter().zip(&formats) {
        total.source(shown, &format.describe());
    }
    let mut lines_before = 0u64;
    for (k, slot) in results.into_iter().enumerate() {
        let (mut builder, lines) = slot
            .into_inner()
            .expect("no panics while holding it")
            .expect("every piece was read")?;
        let continues = pieces[k].2;
        if continues {
            builder.shift_lines(lines_before);
        }
        lines_before = if continues { 0 } else { lines };
        total.merge(builder);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_read_in_two_halves_gives_the_same_model_and_line_numbers() {
        let dir = std::env::temp_dir().join(format!("envparity-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("access.log");
        let mut text = String::new();
        for i in 0..400 {
            if i % 37 == 5 {
                text.push_str("not a log line\n");
            } else if i % 53 == 0 {
                text.push('\n');
            } else {
                text.push_str(&format!(
                    "10.0.0.{} - - [01/Jan/2026:00:{:02}:{:02} +0000] \"GET /users/{i} HTTP/1.1\" 200 10 \"-\" \"-\"\n",
                    i % 9,
                    i / 60,
                    i % 60
                ));
            }
        }
        std::fs::write(&path, &text).unwrap();
        let files = vec![(path.clone(), "access.log".to_string())];
        let options = ReadOptions::default();
        let whole = read_files_split_at(&files, &options, u64::MAX)
            .unwrap()
            .finish();
        for split in [1u64, 100, 7_000, 20_000] {
            let halves = read_files_split_at(&files, &options, split)
                .unwrap()
                .finish();
            assert_eq!(halves, whole, "split above {split} bytes");
        }
        assert_eq!(whole.malformed, 11);
        let lines: Vec<u64> = whole.malformed_samples.iter().map(|m| m.line).collect();
        assert_eq!(&lines[..3], &[6, 43, 80]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
