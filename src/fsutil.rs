//! Files written so that no reader and no crash ever sees half of one, and files read only
//! after checking that they are what they claim to be: every save and load of the crate goes
//! through here.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, ensure};

/// A name for a temporary file or folder beside `target`, unique in this process and across
/// processes (process id, a counter and the clock), short enough for any file system.
pub(crate) fn temporary_sibling(target: &Path, kind: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let stem: String = target.file_name().map(|n| n.to_string_lossy().chars().take(40).collect()).unwrap_or_default();
    let extension = target.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    target.with_file_name(format!(".{stem}.{kind}-{}-{n}-{nanos}{extension}", std::process::id()))
}

/// The file a save to `path` should replace: `path` itself, or what it links to (so that
/// saving to a symlink updates its target, not the link).
pub(crate) fn save_target(path: &Path) -> Result<PathBuf> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path)
            .or_else(|_| Ok(path.parent().unwrap_or(Path::new(".")).join(std::fs::read_link(path)?))),
        _ => Ok(path.to_path_buf()),
    }
}

/// Flushes a folder's entries (a rename in it) to disk.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).with_context(|| format!("cannot sync {}", dir.display()))
}

/// The folder a path lives in (`.` for a bare file name).
pub(crate) fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `path` through `write` atomically: into a unique temporary file beside the target
/// (the target of a symlink), synced to disk, then renamed over it. On failure the temporary
/// file is removed and whatever was at `path` is left as it was.
pub(crate) fn write_atomically(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let target = save_target(path)?;
    let tmp = temporary_sibling(&target, "tmp");
    let written = write(&tmp)
        .and_then(|()| File::open(&tmp).and_then(|f| f.sync_all()).context("cannot sync the temporary file"))
        .and_then(|()| std::fs::rename(&tmp, &target).context("cannot move the temporary file into place"))
        .and_then(|()| sync_dir(parent_of(&target)));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.with_context(|| format!("cannot write {}", path.display()))
}

/// Writes `bytes` to `path` atomically (see [`write_atomically`]).
pub(crate) fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(path, |tmp| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(tmp)?;
        file.write_all(bytes)?;
        Ok(())
    })
}

/// Opens `path` for reading if it is a regular file, and returns it with its length. The file
/// is opened without blocking and checked after opening, so a FIFO or a device (`/dev/zero`)
/// is refused without being read and without hanging, even if it replaced a file meanwhile.
pub(crate) fn open_regular_file(path: &Path) -> Result<(File, u64)> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        const O_NONBLOCK: i32 = 0o4000;
        options.custom_flags(O_NONBLOCK);
    }
    let file = options.open(path)?;
    let metadata = file.metadata()?;
    ensure!(metadata.is_file(), "not a regular file");
    Ok((file, metadata.len()))
}

/// Reads `path` whole after checking that it is a regular file (not a folder, FIFO or device)
/// of at most `max_bytes`; `what` names it in errors.
pub(crate) fn read_regular_file(path: &Path, what: &str, max_bytes: u64) -> Result<Vec<u8>> {
    let shown = path.display();
    let (file, len) = open_regular_file(path).with_context(|| format!("cannot read {what} {shown}"))?;
    ensure!(len <= max_bytes, "{what} {shown} is {len} bytes, more than the {max_bytes} allowed");
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max_bytes + 1).read_to_end(&mut bytes).with_context(|| format!("cannot read {what} {shown}"))?;
    ensure!(bytes.len() as u64 <= max_bytes, "{what} {shown} grew past {max_bytes} bytes while being read");
    Ok(bytes)
}
