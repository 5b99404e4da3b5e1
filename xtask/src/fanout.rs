//! One byte stream fed to several consumers on other threads: the binary is compressed once
//! while every archive copies the compressed bytes as they come. Channels are bounded, so
//! memory stays flat whatever the binary's size; a consumer that stops reading (it failed)
//! is dropped, never waited for.

use std::{
    io::{self, Read, Write},
    sync::{
        mpsc::{sync_channel, Receiver, SyncSender},
        Arc,
    },
};

/// Chunks in flight per consumer. zstd hands out ~128 KiB at a time, so about 4 MiB each.
const DEPTH: usize = 32;

/// Writes everything to `inner` and a copy to each live consumer.
pub struct FanOut<W> {
    inner: W,
    copies: Vec<Option<SyncSender<Arc<[u8]>>>>,
}

/// Reads what a [`FanOut`] sends, in order; end of stream when the writer is dropped.
pub struct ChunkReader {
    rx: Receiver<Arc<[u8]>>,
    chunk: Arc<[u8]>,
    pos: usize,
}

/// A writer around `inner` with `n` readers.
pub fn fan_out<W: Write>(inner: W, n: usize) -> (FanOut<W>, Vec<ChunkReader>) {
    let (copies, readers) = (0..n)
        .map(|_| {
            let (tx, rx) = sync_channel(DEPTH);
            (
                Some(tx),
                ChunkReader {
                    rx,
                    chunk: Arc::from(Vec::new()),
                    pos: 0,
                },
            )
        })
        .unzip();
    (FanOut { inner, copies }, readers)
}

impl<W: Write> Write for FanOut<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write_all(buf)?;
        // One copy shared by every consumer.
        let chunk: Arc<[u8]> = Arc::from(buf);
        for slot in &mut self.copies {
            if let Some(tx) = slot {
                if tx.send(Arc::clone(&chunk)).is_err() {
                    // That consumer gave up (its own error is reported by its thread).
                    *slot = None;
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.chunk.len() {
            match self.rx.recv() {
                Ok(c) => {
                    self.chunk = c;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.chunk.len() - self.pos);
        out[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reader_gets_every_byte_and_a_quitter_does_not_block() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let (mut w, mut readers) = fan_out(Vec::new(), 3);
        let quitter = readers.pop().unwrap();
        drop(quitter);
        let got = std::thread::scope(|s| {
            let hs: Vec<_> = readers
                .into_iter()
                .map(|mut r| {
                    s.spawn(move || {
                        let mut v = Vec::new();
                        r.read_to_end(&mut v).unwrap();
                        v
                    })
                })
                .collect();
            for c in data.chunks(128 << 10) {
                w.write_all(c).unwrap();
            }
            let inner = std::mem::take(&mut w.inner);
            drop(w);
            assert_eq!(inner, data);
            hs.into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        });
        assert_eq!(got.len(), 2);
        for g in got {
            assert_eq!(g, data);
        }
    }
}
