//! A function's code as Lambda identifies it: the binary, its size and its SHA-256
//! (`CodeSha256`, base64 as the Lambda API writes it), and the store that keeps each
//! published version's binary as it was when it was published, so a rebuild of the
//! workspace cannot change a version that already exists.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// One function binary and what identifies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code {
    /// The file the process runs.
    pub binary: PathBuf,
    /// Its SHA-256.
    pub digest: [u8; 32],
    /// Its size in bytes (`CodeSize`).
    pub size: u64,
}

impl Code {
    /// Reads `binary` and hashes it.
    ///
    /// # Errors
    /// When the file cannot be read.
    pub fn read(binary: &Path) -> std::io::Result<Self> {
        let mut file = std::fs::File::open(binary)?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0; 1 << 20];
        let mut size = 0_u64;
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
            size += read as u64;
        }
        Ok(Self {
            binary: binary.to_path_buf(),
            digest: hasher.finalize().into(),
            size,
        })
    }

    /// `CodeSha256`: the digest in base64, as the Lambda API answers it.
    pub fn sha256(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.digest)
    }

    /// The digest as a file name (base64 without `/`).
    fn file_name(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.digest)
    }
}

/// Where published versions' binaries live: one copy per distinct binary (versions
/// that differ only in configuration share it), in a temporary folder removed when
/// the store is dropped.
#[derive(Debug)]
pub struct CodeStore {
    dir: tempfile::TempDir,
}

impl CodeStore {
    /// A new, empty store in the system's temporary folder.
    ///
    /// # Errors
    /// When the folder cannot be created.
    pub fn new() -> std::io::Result<Self> {
        Ok(Self {
            dir: tempfile::Builder::new()
                .prefix("local-cloud-code-")
                .tempdir()?,
        })
    }

    /// Copies `binary` into the store and hashes the copy (not the original, which a
    /// build may be rewriting meanwhile). The copy keeps the binary's file name, so a
    /// process list still says which function runs.
    ///
    /// # Errors
    /// When the binary cannot be read or the copy written.
    pub fn snapshot(&self, binary: &Path) -> std::io::Result<Code> {
        let name = binary
            .file_name()
            .ok_or_else(|| std::io::Error::other(format!("{} is not a file", binary.display())))?;
        let staging = tempfile::Builder::new()
            .prefix("staging-")
            .tempdir_in(self.dir.path())?;
        let copy = staging.path().join(name);
        std::fs::copy(binary, &copy)?;
        let staged = Code::read(&copy)?;
        let folder = self.dir.path().join(staged.file_name());
        let kept = folder.join(name);
        if !kept.exists() {
            std::fs::create_dir_all(&folder)?;
            std::fs::rename(&copy, &kept)?;
        }
        Ok(Code {
            binary: kept,
            ..staged
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sha_is_base64_of_the_sha256_as_lambda_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bootstrap");
        std::fs::write(&file, b"abc").unwrap();
        let code = Code::read(&file).unwrap();
        assert_eq!(code.size, 3);
        // SHA-256("abc"), base64.
        assert_eq!(
            code.sha256(),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }

    #[test]
    fn a_snapshot_survives_a_rebuild_and_identical_binaries_share_one_copy() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("add-comments");
        std::fs::write(&binary, b"version one").unwrap();
        let store = CodeStore::new().unwrap();
        let first = store.snapshot(&binary).unwrap();
        assert_eq!(first.binary.file_name().unwrap(), "add-comments");
        assert_ne!(first.binary, binary);

        std::fs::write(&binary, b"version two").unwrap();
        assert_eq!(std::fs::read(&first.binary).unwrap(), b"version one");
        let second = store.snapshot(&binary).unwrap();
        assert_ne!(second.digest, first.digest);

        std::fs::write(&binary, b"version one").unwrap();
        let again = store.snapshot(&binary).unwrap();
        assert_eq!(again, first);
    }
}
