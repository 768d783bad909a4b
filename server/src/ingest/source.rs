//! Reading a log file line by line from a byte offset: plain or gzip (the
//! offset then counts decompressed bytes), with a fingerprint that names the
//! file by its first line, so a renamed or compressed copy is recognised.

use anyhow::{Context, Result};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// The first line of the file (at most this many bytes) names it.
const FINGERPRINT_BYTES: usize = 1024;

/// Reads complete lines and knows the offset after the last one returned.
pub struct LogReader {
    reader: Box<dyn BufRead + Send>,
    /// Bytes of the (decompressed) content before the next line.
    pub offset: u64,
    /// The start of a line not yet ended by `\n` (a writer is mid-line).
    pending: Vec<u8>,
    pub gzip: bool,
}

fn is_gzip(path: &Path) -> Result<bool> {
    let mut magic = [0u8; 2];
    let mut f = File::open(path)?;
    let n = f.read(&mut magic)?;
    Ok(n == 2 && magic == [0x1f, 0x8b])
}

impl LogReader {
    /// Opens `path` positioned at `offset`.
    pub fn open(path: &Path, offset: u64) -> Result<Self> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        Self::from_file(file, path, offset)
    }

    /// Reads from an already open `file` (a tail keeps its handle across a
    /// rename) positioned at `offset`.
    pub fn from_file(mut file: File, path: &Path, offset: u64) -> Result<Self> {
        let gzip = is_gzip(path)?;
        let reader: Box<dyn BufRead + Send> = if gzip {
            file.seek(SeekFrom::Start(0))?;
            let mut r = BufReader::with_capacity(1 << 16, flate2::read::MultiGzDecoder::new(file));
            let skipped = std::io::copy(&mut (&mut r).take(offset), &mut std::io::sink())?;
            if skipped < offset {
                anyhow::bail!("{} is shorter than its checkpoint", path.display());
            }
            Box::new(r)
        } else {
            file.seek(SeekFrom::Start(offset))?;
            Box::new(BufReader::with_capacity(1 << 18, file))
        };
        Ok(Self {
            reader,
            offset,
            pending: Vec::new(),
            gzip,
        })
    }

    /// The next complete line into `line` (with its `\n`). At the end of the
    /// data, `Ok(false)`; a last line without `\n` is returned only when
    /// `at_end_is_complete` (a finished archive), else kept for later.
    pub fn next_line(&mut self, line: &mut Vec<u8>, at_end_is_complete: bool) -> Result<bool> {
        line.clear();
        if !self.pending.is_empty() {
            line.append(&mut self.pending);
        }
        self.reader.read_until(b'\n', line)?;
        if line.is_empty() {
            return Ok(false);
        }
        if line.last() != Some(&b'\n') && !at_end_is_complete {
            std::mem::swap(&mut self.pending, line);
            line.clear();
            return Ok(false);
        }
        self.offset += line.len() as u64;
        Ok(true)
    }
}

/// Complete lines read in one go, and the offset of their first byte. The
/// reading thread also splits them and checks their UTF-8 once for the
/// whole block, which spares the parsing thread that work.
pub struct Block {
    pub start: u64,
    /// Whole lines, each ending in `\n` (the last one may not, at the end
    /// of an archive, or when one line alone is longer than a block);
    /// `Ok` when all of it is valid UTF-8.
    data: Result<String, Vec<u8>>,
    /// Where each line ends (just after its `\n`), from the block's start.
    ends: Vec<u32>,
}

/// One line of a block: text, or bytes that are not all valid UTF-8.
pub enum Line<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
}

impl<'a> Line<'a> {
    /// The line as text, if it is valid UTF-8.
    pub fn text(&self) -> Option<&'a str> {
        match *self {
            Line::Text(text) => Some(text),
            Line::Bytes(bytes) => std::str::from_utf8(bytes).ok(),
        }
    }
}

impl Block {
    fn new(start: u64, bytes: Vec<u8>) -> Self {
        let mut ends: Vec<u32> = memchr::memchr_iter(b'\n', &bytes)
            .map(|i| i as u32 + 1)
            .collect();
        if ends.last().map_or(0, |e| *e as usize) < bytes.len() {
            ends.push(bytes.len() as u32);
        }
        let data = String::from_utf8(bytes).map_err(|e| e.into_bytes());
        Self { start, data, ends }
    }

    pub fn len(&self) -> usize {
        match &self.data {
            Ok(text) => text.len(),
            Err(bytes) => bytes.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer, to read the next block into.
    pub fn into_buffer(self) -> Vec<u8> {
        self.data.map_or_else(|bytes| bytes, String::into_bytes)
    }

    /// The lines, each with the file offset just after it.
    pub fn lines(&self) -> impl Iterator<Item = (Line<'_>, u64)> {
        let mut from = 0;
        self.ends.iter().map(move |&end| {
            let (a, b) = (from, end as usize);
            from = b;
            let line = match &self.data {
                Ok(text) => Line::Text(&text[a..b]),
                Err(bytes) => Line::Bytes(&bytes[a..b]),
            };
            (line, self.start + b as u64)
        })
    }
}

impl LogReader {
    /// About `size` bytes of complete lines into `buf` (cleared first; pass
    /// a used buffer back to save allocating), or `None` at the end of the
    /// data. A last line without `\n` is included only when
    /// `at_end_is_complete`, else kept for the next call. A line longer
    /// than `size` comes in pieces of at most `size` bytes. `size` is below
    /// 4 GiB.
    pub fn next_block(
        &mut self,
        mut buf: Vec<u8>,
        size: usize,
        at_end_is_complete: bool,
    ) -> Result<Option<Block>> {
        // The start of a line left over from the last block first, then
        // large reads straight into the block (a read this size bypasses
        // the BufReader's own buffer: the bytes are copied once). A
        // recycled buffer is overwritten as it is, not zeroed again.
        let mut filled = self.pending.len();
        let end = filled.max(size);
        if buf.len() < end {
            buf.resize(end, 0);
        }
        buf[..filled].copy_from_slice(&self.pending);
        self.pending.clear();
        let mut at_end = false;
        while filled < end {
            match self.reader.read(&mut buf[filled..end]) {
                Ok(0) => {
                    at_end = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        buf.truncate(filled);
        let complete = match memchr::memrchr(b'\n', &buf) {
            _ if at_end && at_end_is_complete => buf.len(),
            Some(i) => i + 1,
            None if buf.len() >= size => buf.len(),
            None => 0,
        };
        self.pending.extend_from_slice(&buf[complete..]);
        buf.truncate(complete);
        if buf.is_empty() {
            return Ok(None);
        }
        let start = self.offset;
        self.offset += buf.len() as u64;
        Ok(Some(Block::new(start, buf)))
    }
}

/// Names a file by its first line: the same for a renamed, rotated or
/// gzipped copy. `None` while the file has no complete first line (for an
/// `archive`, a last line without `\n` is complete; `None` means empty).
pub fn fingerprint(path: &Path, archive: bool) -> Result<Option<String>> {
    let mut r = LogReader::open(path, 0)?;
    let mut first = Vec::new();
    let mut limited = (&mut r.reader).take(FINGERPRINT_BYTES as u64);
    limited.read_until(b'\n', &mut first)?;
    let ended = first.last() == Some(&b'\n') || first.len() == FINGERPRINT_BYTES;
    if first.is_empty() || !(ended || archive) {
        return Ok(None);
    }
    let hash = app::server::ingest_status::fnv1a(first.iter().copied());
    Ok(Some(format!("{hash:016x}-{}", first.len())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn lines_and_offsets_and_a_pending_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mail.log");
        std::fs::write(&path, b"one\ntwo\nthr").unwrap();
        let mut r = LogReader::open(&path, 0).unwrap();
        let mut line = Vec::new();
        assert!(r.next_line(&mut line, false).unwrap());
        assert_eq!((line.as_slice(), r.offset), (&b"one\n"[..], 4));
        assert!(r.next_line(&mut line, false).unwrap());
        assert!(!r.next_line(&mut line, false).unwrap(), "half a line waits");
        assert_eq!(r.offset, 8);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"ee\n")
            .unwrap();
        assert!(r.next_line(&mut line, false).unwrap());
        assert_eq!((line.as_slice(), r.offset), (&b"three\n"[..], 14));
        let mut resumed = LogReader::open(&path, 4).unwrap();
        assert!(resumed.next_line(&mut line, true).unwrap());
        assert_eq!(line, b"two\n");
    }

    #[test]
    fn blocks_hold_whole_lines_and_know_their_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mail.log");
        std::fs::write(&path, b"aa\nbbbb\ncc\nddd").unwrap();
        let mut r = LogReader::open(&path, 0).unwrap();
        let mut lines = Vec::new();
        let mut buf = Vec::new();
        // Blocks of 7 bytes cut lines: the cut part waits for the next one.
        while let Some(block) = r.next_block(buf, 7, false).unwrap() {
            lines.extend(block.lines().map(|(l, end)| (bytes(l).to_vec(), end)));
            buf = block.into_buffer();
        }
        let want = [(&b"aa\n"[..], 3), (b"bbbb\n", 8), (b"cc\n", 11)].map(|(l, e)| (l.to_vec(), e));
        assert_eq!(lines, want);
        assert_eq!(r.offset, 11, "ddd is unfinished");
        let block = r.next_block(Vec::new(), 7, true).unwrap().unwrap();
        let last: Vec<_> = block
            .lines()
            .map(|(l, end)| (bytes(l).to_vec(), end))
            .collect();
        assert_eq!(last, [(b"ddd".to_vec(), 14)]);
        // A line longer than a block comes in pieces, none lost.
        let mut r = LogReader::open(&path, 0).unwrap();
        let mut all = Vec::new();
        while let Some(b) = r.next_block(Vec::new(), 2, true).unwrap() {
            assert!(b.len() <= 2);
            all.extend_from_slice(&b.into_buffer());
        }
        assert_eq!(all, b"aa\nbbbb\ncc\nddd");
    }

    #[test]
    fn a_block_with_invalid_utf8_gives_its_lines_as_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mail.log");
        std::fs::write(&path, b"ok\nbad \xff\n").unwrap();
        let mut r = LogReader::open(&path, 0).unwrap();
        let block = r.next_block(Vec::new(), 1 << 10, true).unwrap().unwrap();
        let lines: Vec<_> = block
            .lines()
            .map(|(l, end)| (matches!(l, Line::Text(_)), bytes(l).to_vec(), end))
            .collect();
        assert_eq!(
            lines,
            [
                (false, b"ok\n".to_vec(), 3),
                (false, b"bad \xff\n".to_vec(), 9)
            ]
        );
    }

    fn bytes<'a>(line: Line<'a>) -> &'a [u8] {
        match line {
            Line::Text(t) => t.as_bytes(),
            Line::Bytes(b) => b,
        }
    }

    #[test]
    fn gzip_copies_have_the_same_fingerprint_and_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("mail.log.1");
        let gz = dir.path().join("mail.log.1.gz");
        let first = b"Aug  4 08:28:49 mx1 postfix/smtpd[1]: connect from x[192.0.2.1]\n";
        let text = [&first[..], b"second\n"].concat();
        std::fs::write(&plain, &text).unwrap();
        let mut enc = flate2::write::GzEncoder::new(File::create(&gz).unwrap(), Default::default());
        enc.write_all(&text).unwrap();
        enc.finish().unwrap();
        assert_eq!(
            fingerprint(&plain, false).unwrap(),
            fingerprint(&gz, false).unwrap()
        );
        assert!(fingerprint(&plain, false).unwrap().is_some());
        let mut r = LogReader::open(&gz, first.len() as u64).unwrap();
        let mut line = Vec::new();
        assert!(r.next_line(&mut line, true).unwrap());
        assert_eq!(line, b"second\n");
        std::fs::write(&plain, b"no newline yet").unwrap();
        assert_eq!(fingerprint(&plain, false).unwrap(), None);
    }
}
