//! Reading access-log files: plain or gzip (by magic bytes), in large chunks, lines split
//! with memchr; files read in parallel, one model builder each, merged at the end.

use std::io::Read;
use std::path::Path;

use crate::format::LogFormat;
use crate::model::ModelBuilder;

/// Reads one file into `builder`. Malformed lines are counted; with `strict`, the first
/// one is an error naming the file and line.
pub fn read_file(
    path: &Path,
    shown: &str,
    format: &LogFormat,
    strict: bool,
    builder: &mut ModelBuilder,
) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{shown}: cannot open: {e}"))?;
    let mut buffered = std::io::BufReader::with_capacity(1 << 20, file);
    let gzip = std::io::BufRead::fill_buf(&mut buffered)
        .map_err(|e| format!("{shown}: cannot read: {e}"))?
        .starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn Read> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    let mut buffer = vec![0u8; 1 << 20];
    let mut carry: Vec<u8> = Vec::new();
    let mut line_no = 0u64;
    loop {
        let n = reader
            .read(&mut buffer)
            .map_err(|e| format!("{shown}: cannot read (line {}): {e}", line_no + 1))?;
        if n == 0 {
            break;
        }
        let mut chunk = &buffer[..n];
        if !carry.is_empty() {
            match memchr::memchr(b'\n', chunk) {
                Some(end) => {
                    carry.extend_from_slice(&chunk[..end]);
                    line_no += 1;
                    let line = std::mem::take(&mut carry);
                    one_line(&line, line_no, shown, format, strict, builder)?;
                    chunk = &chunk[end + 1..];
                }
                None => {
                    carry.extend_from_slice(chunk);
                    continue;
                }
            }
        }
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', chunk) {
            line_no += 1;
            one_line(&chunk[start..end], line_no, shown, format, strict, builder)?;
            start = end + 1;
        }
        carry.extend_from_slice(&chunk[start..]);
    }
    if !carry.is_empty() {
        line_no += 1;
        one_line(&carry, line_no, shown, format, strict, builder)?;
    }
    Ok(())
}

fn one_line(
    line: &[u8],
    line_no: u64,
    shown: &str,
    format: &LogFormat,
    strict: bool,
    builder: &mut ModelBuilder,
) -> Result<(), String> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return Ok(());
    }
    match format.parse(line) {
        Ok(record) => builder.add(&record, format.time_is_start),
        Err(why) if strict => return Err(format!("{shown}:{line_no}: {why}")),
        Err(why) => builder.malformed(shown, line_no, why),
    }
    Ok(())
}

/// Reads many files, two at a time, and merges their models.
pub fn read_files(
    files: &[(std::path::PathBuf, String)],
    format: &LogFormat,
    strict: bool,
) -> Result<ModelBuilder, String> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || -> Result<ModelBuilder, String> {
        let mut builder = ModelBuilder::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some((path, shown)) = files.get(i) else {
                return Ok(builder);
            };
            read_file(path, shown, format, strict, &mut builder)?;
        }
    };
    let (a, b) = std::thread::scope(|scope| {
        let other = scope.spawn(work);
        let mine = work();
        (mine, other.join().expect("reading a log does not panic"))
    });
    let mut builder = a?;
    builder.merge(b?);
    Ok(builder)
}
