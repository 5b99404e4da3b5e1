//! Reproducible `.tar.zst` writing: canonical tar headers and a zstd stream made of
//! several frames, so the big binary's compressed frame is made once and spliced into
//! every target's archive.
//!
//! Layout of an archive: frame 1 holds every tar block up to and including the binary's
//! header; frame 2 is the cached frame of the binary's data plus its tar padding; frame 3
//! holds the remaining entries and the end-of-archive blocks. Concatenated zstd frames are
//! one valid zstd stream (RFC 8878 §3.1), so GNU tar, `zstd -d` and the `zstd` crate read
//! it as one tar file.

use std::io::{self, Read, Write};

use anyhow::{bail, Context, Result};

/// Size of a tar block.
pub const BLOCK: u64 = 512;

/// What a tar entry is. Modes are decided here, not read from disk, so umask and
/// permission bits beyond "executable or not" never reach the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File { size: u64, executable: bool },
    Symlink { target: String },
}

/// Zero bytes needed after `size` bytes of data to reach a block boundary.
pub fn padding(size: u64) -> usize {
    ((BLOCK - size % BLOCK) % BLOCK) as usize
}

/// The header block(s) of one entry: a GNU long-name block first when the path does not
/// fit the 100-byte name field. uid/gid 0, empty user/group names, fixed `mtime`, no
/// atime/ctime or PAX records.
pub fn header_bytes(path: &str, kind: &EntryKind, mtime: u64) -> Result<Vec<u8>> {
    header_bytes_mode(path, kind, None, mtime)
}

/// [`header_bytes`] with an explicit mode instead of the canonical 0755/0644 (an image's
/// root file system needs e.g. `/tmp` 1777).
pub fn header_bytes_mode(
    path: &str,
    kind: &EntryKind,
    mode: Option<u32>,
    mtime: u64,
) -> Result<Vec<u8>> {
    if path.is_empty()
        || path.starts_with('/')
        || path.split('/').any(|c| c == "..")
        || path.contains('\0')
    {
        bail!("invalid archive path {path:?}");
    }
    let name = match kind {
        EntryKind::Dir => format!("{path}/"),
        _ => path.to_string(),
    };
    let mut out = Vec::with_capacity(BLOCK as usize * 3);
    if name.len() > 100 {
        // GNU tar's own encoding for long names: a `././@LongLink` entry of type 'L'
        // whose data is the NUL-terminated name.
        let data_len = name.len() as u64 + 1;
        let mut long = raw_header(
            "././@LongLink",
            tar::EntryType::GNULongName,
            0o644,
            data_len,
            0,
        )?;
        out.append(&mut long);
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.resize(out.len() + padding(data_len), 0);
    }
    let short = &name.as_bytes()[..name.len().min(100)];
    let short = std::str::from_utf8(short).unwrap_or("././@LongLink");
    let mut h = match kind {
        EntryKind::Dir => raw_header(
            short,
            tar::EntryType::Directory,
            mode.unwrap_or(0o755),
            0,
            mtime,
        )?,
        EntryKind::File { size, executable } => raw_header(
            short,
            tar::EntryType::Regular,
            mode.unwrap_or(if *executable { 0o755 } else { 0o644 }),
            *size,
            mtime,
        )?,
        EntryKind::Symlink { target } => {
            if target.len() > 100 {
                bail!("symbolic link {path} -> {target}: link targets over 100 bytes are not supported");
            }
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_link_name(target)
                .with_context(|| format!("link target {target:?}"))?;
            finish_header(h, short, 0o755, 0, mtime)?
        }
    };
    out.append(&mut h);
    Ok(out)
}

fn raw_header(name: &str, ty: tar::EntryType, mode: u32, size: u64, mtime: u64) -> Result<Vec<u8>> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(ty);
    finish_header(h, name, mode, size, mtime)
}

fn finish_header(
    mut h: tar::Header,
    name: &str,
    mode: u32,
    size: u64,
    mtime: u64,
) -> Result<Vec<u8>> {
    // Write the name field directly: `set_path` would refuse names `tar` would normalise.
    let gnu = h.as_gnu_mut().expect("GNU header");
    gnu.name = [0; 100];
    gnu.name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_size(size);
    h.set_mtime(mtime);
    h.set_username("").context("tar user name")?;
    h.set_groupname("").context("tar group name")?;
    h.set_cksum();
    Ok(h.as_bytes().to_vec())
}

/// Settings shared by every frame, so the same input always gives the same bytes.
#[derive(Debug, Clone, Copy)]
pub struct ZstdParams {
    pub level: i32,
    /// Always >= 1: zstd's multi-threaded mode gives the same bytes for any worker count,
    /// but not the same bytes as single-threaded mode.
    pub workers: u32,
}

impl ZstdParams {
    /// `workers` 0: one per available core.
    pub fn new(level: i32, workers: u32) -> Self {
        let workers = match workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
            n => n,
        }
        .max(1);
        ZstdParams { level, workers }
    }
}

fn encoder<W: Write>(
    out: W,
    p: ZstdParams,
) -> io::Result<zstd::stream::write::Encoder<'static, W>> {
    let mut enc = zstd::stream::write::Encoder::new(out, p.level)?;
    enc.multithread(p.workers)?;
    enc.include_checksum(true)?;
    Ok(enc)
}

/// Compresses `size` bytes of `data` followed by its tar padding into one zstd frame
/// written to `out`. Returns the SHA-256 of `data` (computed in the same pass).
pub fn compress_data_frame(
    mut data: impl Read,
    size: u64,
    p: ZstdParams,
    out: impl Write,
) -> Result<String> {
    let mut enc = encoder(out, p).context("cannot start the zstd encoder")?;
    let mut hasher = crate::hash::HashingWriter::new(io::sink());
    let mut buf = vec![0u8; crate::hash::CHUNK];
    let mut left = size;
    while left > 0 {
        let want = buf.len().min(left as usize);
        let n = data
            .read(&mut buf[..want])
            .context("cannot read the binary")?;
        if n == 0 {
            bail!("the binary shrank while it was being read ({left} bytes missing)");
        }
        hasher.write_all(&buf[..n])?;
        enc.write_all(&buf[..n])
            .context("cannot write the compressed binary (disk full?)")?;
        left -= n as u64;
    }
    enc.write_all(&vec![0u8; padding(size)])?;
    enc.finish()
        .context("cannot finish the compressed binary frame (disk full?)")?;
    Ok(hasher.finish().1)
}

/// Streams a tar archive into zstd frames. Entries must be added in their final order.
pub struct TarZstWriter<W: Write> {
    state: Option<Frame<W>>,
    params: ZstdParams,
    mtime: u64,
}

enum Frame<W: Write> {
    Open(zstd::stream::write::Encoder<'static, W>),
    Closed(W),
}

impl<W: Write> TarZstWriter<W> {
    pub fn new(out: W, params: ZstdParams, mtime: u64) -> Self {
        TarZstWriter {
            state: Some(Frame::Closed(out)),
            params,
            mtime,
        }
    }

    fn open(&mut self) -> Result<&mut zstd::stream::write::Encoder<'static, W>> {
        if let Some(Frame::Closed(_)) = self.state {
            let Some(Frame::Closed(w)) = self.state.take() else {
                unreachable!()
            };
            self.state = Some(Frame::Open(
                encoder(w, self.params).context("cannot start the zstd encoder")?,
            ));
        }
        match self.state.as_mut() {
            Some(Frame::Open(enc)) => Ok(enc),
            _ => unreachable!("frame state was just opened"),
        }
    }

    fn close(&mut self) -> Result<&mut W> {
        if let Some(Frame::Open(_)) = self.state {
            let Some(Frame::Open(enc)) = self.state.take() else {
                unreachable!()
            };
            self.state = Some(Frame::Closed(
                enc.finish()
                    .context("cannot finish a zstd frame (disk full?)")?,
            ));
        }
        match self.state.as_mut() {
            Some(Frame::Closed(w)) => Ok(w),
            _ => unreachable!("frame state was just closed"),
        }
    }

    pub fn add_dir(&mut self, path: &str) -> Result<()> {
        let h = header_bytes(path, &EntryKind::Dir, self.mtime)?;
        self.open()?.write_all(&h).context("archive write failed")
    }

    pub fn add_symlink(&mut self, path: &str, target: &str) -> Result<()> {
        let h = header_bytes(
            path,
            &EntryKind::Symlink {
                target: target.into(),
            },
            self.mtime,
        )?;
        self.open()?.write_all(&h).context("archive write failed")
    }

    /// Adds a regular file, streaming exactly `size` bytes from `data`.
    pub fn add_file(
        &mut self,
        path: &str,
        executable: bool,
        size: u64,
        data: impl Read,
    ) -> Result<()> {
        let h = header_bytes(path, &EntryKind::File { size, executable }, self.mtime)?;
        let enc = self.open()?;
        enc.write_all(&h)?;
        let copied = io::copy(&mut data.take(size), enc)
            .with_context(|| format!("cannot archive {path}"))?;
        if copied != size {
            bail!("{path} changed size while it was archived ({copied} of {size} bytes)");
        }
        enc.write_all(&vec![0u8; padding(size)])?;
        Ok(())
    }

    /// Adds a regular file whose data (plus padding) is already one compressed zstd frame,
    /// made by [`compress_data_frame`] with the same parameters.
    pub fn add_file_frame(
        &mut self,
        path: &str,
        executable: bool,
        size: u64,
        frame: impl Read,
    ) -> Result<()> {
        let h = header_bytes(path, &EntryKind::File { size, executable }, self.mtime)?;
        self.open()?.write_all(&h)?;
        let out = self.close()?;
        io::copy(&mut { frame }, out)
            .with_context(|| format!("cannot copy the compressed frame of {path}"))?;
        Ok(())
    }

    /// Writes the end-of-archive blocks, closes the last frame and returns the sink.
    pub fn finish(mut self) -> Result<W> {
        self.open()?.write_all(&[0u8; 2 * BLOCK as usize])?;
        self.close()?;
        match self.state.take() {
            Some(Frame::Closed(w)) => Ok(w),
            _ => unreachable!("closed above"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(workers: u32) -> ZstdParams {
        ZstdParams { level: 3, workers }
    }

    /// Builds a small archive: a dir, a long-named file, a spliced frame, a link.
    fn sample(workers: u32, data: &[u8]) -> Vec<u8> {
        let mut w = TarZstWriter::new(Vec::new(), params(workers), 1_700_000_000);
        w.add_dir("top").unwrap();
        let long = format!("top/{}/file.txt", "d".repeat(120));
        w.add_file(&long, false, 5, &b"hello"[..]).unwrap();
        let mut frame = Vec::new();
        compress_data_frame(data, data.len() as u64, params(workers), &mut frame).unwrap();
        w.add_file_frame("top/bin/app", true, data.len() as u64, &frame[..])
            .unwrap();
        w.add_symlink("top/link", "bin/app").unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn multi_frame_archive_reads_back() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let bytes = sample(2, &data);
        let raw = zstd::decode_all(&bytes[..]).unwrap();
        let mut ar = tar::Archive::new(&raw[..]);
        let mut seen = Vec::new();
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let h = e.header().clone();
            assert_eq!(
                (h.uid().unwrap(), h.gid().unwrap(), h.mtime().unwrap()),
                (0, 0, 1_700_000_000)
            );
            assert_eq!(h.username().unwrap(), Some(""));
            let mut body = Vec::new();
            e.read_to_end(&mut body).unwrap();
            seen.push((
                e.path().unwrap().to_string_lossy().into_owned(),
                h.mode().unwrap(),
                body,
            ));
        }
        assert_eq!(seen[0].0, "top/");
        assert_eq!(seen[0].1, 0o755);
        assert!(seen[1].0.ends_with("/file.txt") && seen[1].0.len() > 100);
        assert_eq!((seen[1].1, seen[1].2.as_slice()), (0o644, &b"hello"[..]));
        assert_eq!((seen[2].0.as_str(), seen[2].1), ("top/bin/app", 0o755));
        assert_eq!(seen[2].2, data);
        assert_eq!(seen[3].0, "top/link");
    }

    #[test]
    fn output_is_independent_of_worker_count() {
        let data: Vec<u8> = (0..3_000_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8 & 0x3f)
            .collect();
        assert_eq!(sample(1, &data), sample(2, &data));
        assert_eq!(sample(1, &data), sample(4, &data));
    }

    #[test]
    fn headers_are_canonical() {
        let h = header_bytes(
            "a/b",
            &EntryKind::File {
                size: 3,
                executable: false,
            },
            7,
        )
        .unwrap();
        assert_eq!(h.len(), 512);
        assert_eq!(&h[..3], b"a/b");
        assert_eq!(&h[257..263], b"ustar ");
        let long = header_bytes(&"x".repeat(150), &EntryKind::Dir, 7).unwrap();
        assert_eq!(long.len(), 512 * 3, "long-name block + name data + header");
        for bad in ["../evil", "/abs"] {
            let e = header_bytes(bad, &EntryKind::Dir, 0)
                .unwrap_err()
                .to_string();
            assert!(e.contains("invalid archive path") && e.contains(bad), "{e}");
        }
        assert_eq!(padding(0), 0);
        assert_eq!(padding(1), 511);
        assert_eq!(padding(512), 0);
    }

    #[test]
    fn data_frame_hash_and_length_checks() {
        let mut out = Vec::new();
        let h = compress_data_frame(&b"abc"[..], 3, params(1), &mut out).unwrap();
        assert_eq!(h, crate::hash::sha256_hex(b"abc"));
        assert_eq!(zstd::decode_all(&out[..]).unwrap().len(), 512);
        let e = compress_data_frame(&b"ab"[..], 3, params(1), Vec::new()).unwrap_err();
        assert!(format!("{e:#}").contains("shrank while it was being read (1 bytes missing)"));
    }
}
