//! Reads what the release needs from an ELF header: the architecture (archive names) and
//! whether the binary is static (no `PT_INTERP`), without loading the file into memory.

use std::{fs::File, io::Read, path::Path};

use anyhow::{bail, Context, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfInfo {
    /// Architecture as used in archive names, e.g. `x86_64`, `aarch64`.
    pub arch: &'static str,
    /// True when no program header requests a dynamic loader (`PT_INTERP`).
    pub is_static: bool,
}

const PT_INTERP: u32 = 3;

/// Parses the ELF header and program headers at the start of `bytes`.
/// `bytes` must hold at least the program header table; 64 KiB covers every real binary.
pub fn parse(bytes: &[u8]) -> Result<ElfInfo> {
    if bytes.len() < 52 || &bytes[..4] != b"\x7fELF" {
        bail!("not an ELF file (missing the \\x7fELF magic)");
    }
    let is64 = match bytes[4] {
        1 => false,
        2 => true,
        c => bail!("unknown ELF class {c}"),
    };
    let le = match bytes[5] {
        1 => true,
        2 => false,
        d => bail!("unknown ELF data encoding {d}"),
    };
    let u16_at = |o: usize| -> Result<u16> {
        let b: [u8; 2] = bytes
            .get(o..o + 2)
            .context("truncated ELF header")?
            .try_into()?;
        Ok(if le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let u32_at = |o: usize| -> Result<u32> {
        let b: [u8; 4] = bytes
            .get(o..o + 4)
            .context("truncated ELF header")?
            .try_into()?;
        Ok(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let u64_at = |o: usize| -> Result<u64> {
        let b: [u8; 8] = bytes
            .get(o..o + 8)
            .context("truncated ELF header")?
            .try_into()?;
        Ok(if le {
            u64::from_le_bytes(b)
        } else {
            u64::from_be_bytes(b)
        })
    };
    let machine = u16_at(18)?;
    let arch = match (machine, is64) {
        (62, true) => "x86_64",
        (3, false) => "i686",
        (183, true) => "aarch64",
        (40, false) => "armv7",
        (243, true) => "riscv64",
        (21, true) => "ppc64le",
        (22, true) => "s390x",
        (m, _) => bail!("unsupported ELF machine {m}"),
    };
    let (phoff, phentsize, phnum) = if is64 {
        (u64_at(32)?, u16_at(54)?, u16_at(56)?)
    } else {
        (u64::from(u32_at(28)?), u16_at(42)?, u16_at(44)?)
    };
    let mut is_static = true;
    for i in 0..u64::from(phnum) {
        let off = phoff
            .checked_add(i * u64::from(phentsize))
            .and_then(|o| usize::try_from(o).ok())
            .context("ELF program header offset overflows")?;
        if u32_at(off).context("truncated ELF program header table")? == PT_INTERP {
            is_static = false;
        }
    }
    Ok(ElfInfo { arch, is_static })
}

/// Reads the header of the file at `path` (first 64 KiB only).
pub fn read(path: &Path) -> Result<ElfInfo> {
    let mut head = Vec::with_capacity(64 * 1024);
    File::open(path)
        .with_context(|| format!("cannot open {}", path.display()))?
        .take(64 * 1024)
        .read_to_end(&mut head)
        .with_context(|| format!("cannot read {}", path.display()))?;
    parse(&head).with_context(|| format!("{} is not a usable Linux executable", path.display()))
}

/// Builds a minimal 64-bit little-endian ELF image for tests: header, program headers
/// (one `PT_INTERP` when `dynamic`), padded with a repeating pattern to `size` bytes.
#[cfg(test)]
pub fn fake_elf(size: usize, machine: u16, dynamic: bool) -> Vec<u8> {
    let mut v = vec![0u8; 64 + 56 * 2];
    v[..4].copy_from_slice(b"\x7fELF");
    v[4] = 2;
    v[5] = 1;
    v[6] = 1;
    v[16..18].copy_from_slice(&2u16.to_le_bytes());
    v[18..20].copy_from_slice(&machine.to_le_bytes());
    v[32..40].copy_from_slice(&64u64.to_le_bytes());
    v[54..56].copy_from_slice(&56u16.to_le_bytes());
    v[56..58].copy_from_slice(&2u16.to_le_bytes());
    v[64..68].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    v[120..124].copy_from_slice(&(if dynamic { PT_INTERP } else { 1 }).to_le_bytes());
    let mut i = 0u32;
    while v.len() < size {
        v.push(
            (i.wrapping_mul(2654435761) >> 13) as u8
                & if i.is_multiple_of(7) { 0xff } else { 0x0f },
        );
        i += 1;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_arch_and_static() {
        assert_eq!(
            parse(&fake_elf(4096, 62, false)).unwrap(),
            ElfInfo {
                arch: "x86_64",
                is_static: true
            }
        );
        assert_eq!(
            parse(&fake_elf(4096, 183, true)).unwrap(),
            ElfInfo {
                arch: "aarch64",
                is_static: false
            }
        );
    }

    #[test]
    fn rejects_non_elf_and_truncated() {
        let e = parse(b"#!/bin/sh\necho hi\n").unwrap_err().to_string();
        assert!(e.contains("not an ELF file"), "{e}");
        let mut t = fake_elf(200, 62, false);
        t.truncate(100);
        assert!(format!("{:#}", parse(&t).unwrap_err()).contains("truncated"));
        let e = parse(&fake_elf(4096, 9999, false)).unwrap_err().to_string();
        assert!(e.contains("unsupported ELF machine 9999"), "{e}");
    }

    #[test]
    fn reads_a_real_binary() {
        // The test binary itself is a real dynamically linked x86_64 (or host) ELF.
        let me = std::env::current_exe().unwrap();
        let info = read(&me).unwrap();
        assert_eq!(info.arch, std::env::consts::ARCH);
    }
}
