//! SHA-256 helpers: streaming hashes (never a whole file in memory) and `SHA256SUMS` lines.
//!
//! `sha2` picks the CPU's SHA extensions at run time when present, which is several
//! times faster than coreutils' `sha256sum` on the same machine.

use std::{
    fs::File,
    io::{self, Read, Write},
    path::Path,
};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// Chunk size for streaming reads: large enough to amortise syscalls, small enough to
/// keep memory flat whatever the file size.
pub const CHUNK: usize = 1 << 20;

pub fn hex(digest: &[u8]) -> String {
    use std::fmt::Write as _;
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// True for 64 hexadecimal digits, the form of a SHA-256 in a checksum line or manifest.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Hashes everything `reader` yields; returns (hex, byte count).
pub fn sha256_reader(mut reader: impl Read) -> io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex(&hasher.finalize()), total))
}

pub fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    sha256_reader(file).with_context(|| format!("cannot read {}", path.display()))
}

/// A writer that hashes and counts what passes through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    pub fn finish(self) -> (W, String, u64) {
        (self.inner, hex(&self.hasher.finalize()), self.count)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Parses `SHA256SUMS` text (`<64 hex>  <name>` or binary-mode `<hex> *<name>`).
/// Returns (name, hex) pairs in file order; errors name the line.
pub fn parse_sums(text: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let (h, name) = line
            .split_once("  ")
            .or_else(|| line.split_once(" *"))
            .with_context(|| format!("line {}: expected `<sha256>  <name>`", i + 1))?;
        if !is_sha256_hex(h) || name.is_empty() {
            anyhow::bail!("line {}: malformed checksum line {line:?}", i + 1);
        }
        out.push((name.to_string(), h.to_ascii_lowercase()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let (h, n) = sha256_reader(&b"abc"[..]).unwrap();
        assert_eq!(
            (h.as_str(), n),
            (
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                3
            )
        );
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"ab").unwrap();
        w.write_all(b"c").unwrap();
        let (inner, h2, n2) = w.finish();
        assert_eq!((inner.as_slice(), h2, n2), (&b"abc"[..], h, 3));
    }

    #[test]
    fn sums_parsing() {
        let h = "a".repeat(64);
        let parsed = parse_sums(&format!("{h}  x y\n{h} *bin\n")).unwrap();
        assert_eq!(
            parsed,
            [
                ("x y".to_string(), h.clone()),
                ("bin".to_string(), h.clone())
            ]
        );
        let e = parse_sums("zz  x\n").unwrap_err().to_string();
        assert_eq!(e, "line 1: malformed checksum line \"zz  x\"");
        let e = parse_sums(&format!("{h}  a\n{h}x\n"))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "line 2: expected `<sha256>  <name>`");
    }
}
