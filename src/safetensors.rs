//! The safetensors format (what PyTorch's `safetensors.torch.save_file` writes), read and
//! written here so that every file is checked before it is trusted: tch's reader reads the
//! whole file before looking at it, and a header that lies about shapes or offsets becomes a
//! libtorch exception, or a read of gigabytes.
//!
//! A file is an 8-byte little-endian header length `N`, `N` bytes of JSON mapping each tensor's
//! name to `{"dtype", "shape", "data_offsets": [begin, end]}` (plus an optional
//! `"__metadata__"` of strings), then the tensors' bytes. Reading checks, before any tensor
//! byte is read: a regular file (not a folder, FIFO or device), a header length within the file
//! and under 100 MB, JSON of that form, known dtypes, shapes whose byte sizes do not overflow,
//! and offsets that tile the data exactly, as the reference implementation requires; then the
//! data against its SHA-256 where the writer recorded one (files written by [`write()`] do;
//! the format itself has no checksum).
//!
//! ```
//! use tch::{Kind, Tensor};
//! let w = Tensor::from_slice(&[1.0f32, 2.0, 3.0]).view([3, 1]);
//! let bytes = tch_rnn::safetensors::serialize(&[("w", &w)])?;
//! let back = tch_rnn::safetensors::parse(&bytes)?;
//! assert_eq!((back[0].0.as_str(), back[0].1.size()), ("w", vec![3, 1]));
//! assert!(tch_rnn::safetensors::parse(&bytes[..bytes.len() - 1]).is_err());
//! # anyhow::Ok(())
//! ```

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tch::{Device, Kind, Tensor};

use crate::fsutil::{open_regular_file, write_atomically};
use crate::sha256::{hex, sha256_hex};

/// The key of the header's `__metadata__` under which tch-rnn's state_dict files carry the
/// SHA-256 of their data (PyTorch ignores metadata; a reader here checks it when present).
pub const DATA_SHA256_KEY: &str = "tch_rnn.data_sha256";

/// The largest header the reference implementation accepts.
pub const MAX_HEADER_BYTES: u64 = 100_000_000;

#[cfg(target_endian = "big")]
compile_error!("safetensors stores little-endian values; this reader copies them as they are");

/// The dtypes read and written, with their safetensors names, in the reference
/// implementation's order of dtypes (writers put larger ones first).
const DTYPES: &[(&str, Kind)] = &[
    ("BOOL", Kind::Bool),
    ("U8", Kind::Uint8),
    ("I8", Kind::Int8),
    ("I16", Kind::Int16),
    ("F16", Kind::Half),
    ("BF16", Kind::BFloat16),
    ("I32", Kind::Int),
    ("F32", Kind::Float),
    ("F64", Kind::Double),
    ("I64", Kind::Int64),
];

/// One entry of the header.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    dtype: String,
    shape: Vec<u64>,
    data_offsets: (u64, u64),
}

/// A tensor's place in the data, checked.
struct Slot {
    name: String,
    kind: Kind,
    shape: Vec<i64>,
    begin: usize,
    end: usize,
}

/// What a header declares, checked.
struct Header {
    /// Every tensor's slot, in data order.
    slots: Vec<Slot>,
    /// The SHA-256 of the data, if the writer recorded it ([`DATA_SHA256_KEY`]).
    data_sha256: Option<String>,
}

/// The header `header` checked against a data section of `data_len` bytes.
fn checked_header(header: &[u8], data_len: u64) -> Result<Header> {
    let header = std::str::from_utf8(header).context("the header is not UTF-8")?;
    let json: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(header.trim_end_matches(' ')).context("the header is not a JSON object")?;
    let mut slots = Vec::with_capacity(json.len());
    let mut data_sha256 = None;
    for (name, value) in json {
        if name == "__metadata__" {
            let mut metadata: BTreeMap<String, String> =
                serde_json::from_value(value).context("__metadata__ is not a map of strings")?;
            data_sha256 = metadata.remove(DATA_SHA256_KEY);
            continue;
        }
        let entry: Entry = serde_json::from_value(value).with_context(|| format!("bad header entry for '{name}'"))?;
        let Some(&(_, kind)) = DTYPES.iter().find(|(n, _)| *n == entry.dtype) else {
            bail!("'{name}' has dtype {}, which is not supported", entry.dtype);
        };
        let (begin, end) = entry.data_offsets;
        let bytes = entry
            .shape
            .iter()
            .try_fold(kind.elt_size_in_bytes() as u64, |n, &d| n.checked_mul(d).filter(|_| d <= i64::MAX as u64))
            .filter(|&n| n <= i64::MAX as u64);
        let Some(bytes) = bytes else {
            bail!("'{name}' declares shape {:?}, too large to exist", entry.shape);
        };
        ensure!(
            begin <= end && end <= data_len && end - begin == bytes,
            "'{name}' declares shape {:?} of {} ({bytes} bytes) at offsets [{begin}, {end}), which do not fit the \
             {data_len} bytes of data",
            entry.shape,
            entry.dtype
        );
        let shape = entry.shape.iter().map(|&d| d as i64).collect();
        slots.push(Slot { name, kind, shape, begin: begin as usize, end: end as usize });
    }
    slots.sort_by_key(|s| (s.begin, s.end));
    let mut covered = 0;
    for slot in &slots {
        ensure!(
            slot.begin == covered,
            "the data of '{}' starts at byte {}, expected {covered}: tensors overlap or leave gaps",
            slot.name,
            slot.begin
        );
        covered = slot.end;
    }
    ensure!(covered as u64 == data_len, "the tensors cover {covered} of the {data_len} bytes of data");
    Ok(Header { slots, data_sha256 })
}

/// The tensors of `header` made from `data` (copied), in the file's order of names, after
/// checking the data against its recorded SHA-256, if any.
fn tensors(header: Header, data: &[u8]) -> Result<Vec<(String, Tensor)>> {
    if let Some(expected) = &header.data_sha256 {
        ensure!(
            sha256_hex(data) == *expected,
            "the tensor data does not match the SHA-256 recorded in the header: the file is corrupt"
        );
    }
    let mut slots = header.slots;
    slots.sort_by(|a, b| a.name.cmp(&b.name));
    slots
        .into_iter()
        .map(|s| {
            let bytes = &data[s.begin..s.end];
            ensure!(
                s.kind != Kind::Bool || bytes.iter().all(|&b| b <= 1),
                "'{}' holds booleans other than 0 and 1",
                s.name
            );
            let tensor =
                Tensor::f_from_data_size(bytes, &s.shape, s.kind).map_err(|e| crate::error::tidy("safetensors", e))?;
            Ok((s.name, tensor))
        })
        .collect()
}

/// The header length that the first 8 bytes declare, checked against the `total` bytes.
fn header_len(first: [u8; 8], total: u64) -> Result<u64> {
    let n = u64::from_le_bytes(first);
    ensure!(
        n <= MAX_HEADER_BYTES && n <= total - 8,
        "the header length {n} exceeds the {} bytes that follow it (or the 100 MB limit)",
        total - 8
    );
    Ok(n)
}

/// The tensors of a safetensors file held in `bytes`, by name (see the module's docs for what
/// is checked). The entry point for fuzzing.
///
/// ```
/// assert!(tch_rnn::safetensors::parse(b"\x02\0\0\0\0\0\0\0{}").unwrap().is_empty());
/// assert!(tch_rnn::safetensors::parse(b"\xff\xff\xff\xff\0\0\0\0{}").is_err());
/// ```
pub fn parse(bytes: &[u8]) -> Result<Vec<(String, Tensor)>> {
    let total = bytes.len() as u64;
    ensure!(total >= 8, "not a safetensors file: {total} bytes, fewer than the 8 of the header length");
    let n = header_len(bytes[..8].try_into().expect("8 bytes"), total)? as usize;
    let data = &bytes[8 + n..];
    tensors(checked_header(&bytes[8..8 + n], data.len() as u64)?, data)
}

/// The tensors of the safetensors file at `path`, by name. The file type, the header and every
/// declared size are checked before the tensors' bytes are read; errors name the file.
///
/// ```no_run
/// for (name, tensor) in tch_rnn::safetensors::read("model.safetensors".as_ref())? {
///     println!("{name}: {:?}", tensor.size());
/// }
/// # anyhow::Ok(())
/// ```
pub fn read(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let read = || -> Result<Vec<(String, Tensor)>> {
        let (mut file, total) = open_regular_file(path)?;
        ensure!(total >= 8, "not a safetensors file: {total} bytes, fewer than the 8 of the header length");
        let mut first = [0u8; 8];
        file.read_exact(&mut first)?;
        let n = header_len(first, total)?;
        let mut header = vec![0u8; n as usize];
        file.read_exact(&mut header)?;
        let data_len = total - 8 - n;
        let header = checked_header(&header, data_len)?;
        let mut data = Vec::with_capacity(data_len as usize);
        file.take(data_len + 1).read_to_end(&mut data)?;
        ensure!(data.len() as u64 == data_len, "the file changed size while it was read");
        tensors(header, &data)
    };
    read().with_context(|| format!("cannot read {}", path.display()))
}

/// Writes `named` (names unique, any device; stored from the CPU, contiguous) in the
/// safetensors format to `out`, byte for byte as the reference implementation (and so
/// PyTorch's `safetensors.torch.save_file`) writes them: tensors ordered by dtype, larger
/// first, then by name; a compact JSON header padded with spaces to 8 bytes. With `seal`, the
/// header's `__metadata__` records the SHA-256 of the data ([`DATA_SHA256_KEY`]).
fn write_to(out: &mut impl Write, named: &[(&str, &Tensor)], seal: bool) -> Result<()> {
    let mut entries = Vec::with_capacity(named.len());
    for &(name, tensor) in named {
        ensure!(!name.is_empty() && name != "__metadata__", "'{name}' cannot name a tensor");
        ensure!(tensor.defined(), "'{name}' is an undefined tensor");
        let Some(rank) = DTYPES.iter().position(|(_, k)| *k == tensor.kind()) else {
            bail!("'{name}' has dtype {:?}, which safetensors files here do not hold", tensor.kind());
        };
        entries.push((rank, name, tensor));
    }
    entries.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    if let Some(w) = entries.windows(2).find(|w| w[0].1 == w[1].1) {
        bail!("'{}' is named twice", w[0].1);
    }
    let mut header = String::from("{");
    let mut offset = 0usize;
    let mut values = Vec::with_capacity(entries.len());
    for (i, (rank, name, tensor)) in entries.into_iter().enumerate() {
        let value = tensor.f_to_device(Device::Cpu)?.f_contiguous()?;
        let bytes = value.numel() * value.kind().elt_size_in_bytes();
        let shape = value.size().iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        header += &format!(
            "{}{}:{{\"dtype\":\"{}\",\"shape\":[{shape}],\"data_offsets\":[{offset},{}]}}",
            if i == 0 { "" } else { "," },
            serde_json::to_string(name)?,
            DTYPES[rank].0,
            offset + bytes
        );
        offset += bytes;
        values.push(value);
    }
    header.push('}');
    let data: Vec<Vec<u8>> = values
        .iter()
        .map(|value| {
            let mut bytes = vec![0u8; value.numel() * value.kind().elt_size_in_bytes()];
            value.f_copy_data_u8(&mut bytes, value.numel())?;
            Ok(bytes)
        })
        .collect::<Result<_>>()?;
    if seal {
        let mut hasher = Sha256::new();
        data.iter().for_each(|bytes| hasher.update(bytes));
        let digest = hex(&hasher.finalize());
        let metadata = format!("{{\"__metadata__\":{{\"{DATA_SHA256_KEY}\":\"{digest}\"}}");
        header = if header == "{}" { format!("{metadata}}}") } else { format!("{metadata},{}", &header[1..]) };
    }
    header.extend(std::iter::repeat_n(' ', (8 - header.len() % 8) % 8));
    out.write_all(&(header.len() as u64).to_le_bytes())?;
    out.write_all(header.as_bytes())?;
    for bytes in data {
        out.write_all(&bytes)?;
    }
    Ok(())
}

/// `named` as the bytes of a safetensors file (what `safetensors.torch.load` reads).
///
/// ```
/// let bytes = tch_rnn::safetensors::serialize(&[("b", &tch::Tensor::from(1i64))])?;
/// assert_eq!(&bytes[..8], &(bytes.len() as u64 - 16).to_le_bytes());
/// # anyhow::Ok(())
/// ```
pub fn serialize(named: &[(&str, &Tensor)]) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    write_to(&mut bytes, named, false).context("cannot serialize tensors")?;
    Ok(bytes)
}

/// Writes `named` as the safetensors file `path`, atomically: a unique temporary file beside
/// it (beside the target of a symlink), synced, then renamed over it. Readers and crashes see
/// the old file or the new one, never half of one. The header records the SHA-256 of the data
/// (under [`DATA_SHA256_KEY`] in `__metadata__`, which PyTorch ignores), so that [`read`]
/// reports a flipped bit anywhere in the file.
///
/// ```
/// let path = std::env::temp_dir().join(format!("doc-st-{}.safetensors", std::process::id()));
/// tch_rnn::safetensors::write(&path, &[("w", &tch::Tensor::from_slice(&[1.0f32, 2.0]))])?;
/// assert_eq!(tch_rnn::safetensors::read(&path)?.len(), 1);
/// # std::fs::remove_file(path)?;
/// # anyhow::Ok(())
/// ```
pub fn write(path: &Path, named: &[(&str, &Tensor)]) -> Result<()> {
    write_atomically(path, |tmp| {
        let file = std::fs::OpenOptions::new().write(true).create_new(true).open(tmp)?;
        let mut out = std::io::BufWriter::new(file);
        write_to(&mut out, named, true)?;
        out.into_inner().map_err(|e| e.into_error())?;
        Ok(())
    })
}
