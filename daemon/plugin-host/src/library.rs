//! Loading a plugin library: open it once, check its ABI, read its descriptor.
//!
//! Order matters: the only thing called before the version check is the entry function, which
//! by contract only returns a pointer to static data; the first field read is `abi_major`, and
//! nothing else is read unless it matches.

use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use stage_api::abi::{EntryV1, ProcessFn, StageV1, ENTRY_SYMBOL_V1, STAGE_V1_0_SIZE};
use stage_api::ABI_MAJOR;

use crate::PluginError;

/// A loaded plugin library; cheap to copy, alive until the process ends.
#[derive(Clone, Copy)]
pub struct Library {
    loaded: &'static Loaded,
}

struct Loaded {
    path: PathBuf,
    descriptor: &'static StageV1,
    name: String,
    plugin_version: String,
}

// SAFETY: the descriptor is immutable static data of a library that is never unloaded; its
// function pointers may be called from any thread (the ABI says so).
unsafe impl Send for Loaded {}
unsafe impl Sync for Loaded {}

/// Every library loaded so far, by canonical path, so a file is loaded (and its constructors
/// run) once however many stages or config checks name it.
static LOADED: Mutex<Vec<&'static Loaded>> = Mutex::new(Vec::new());

impl Library {
    /// Loads the plugin at `path` (or returns the one already loaded) after checking its ABI.
    pub fn load(path: &Path) -> Result<Library, PluginError> {
        let canonical = path.canonicalize().map_err(|_| PluginError::Missing { path: path.to_path_buf() })?;
        let mut loaded = LOADED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(found) = loaded.iter().find(|l| l.path == canonical) {
            return Ok(Library { loaded: found });
        }
        let fresh: &'static Loaded = Box::leak(Box::new(open(&canonical)?));
        loaded.push(fresh);
        Ok(Library { loaded: fresh })
    }

    /// The library file (canonical path).
    pub fn path(&self) -> &Path {
        &self.loaded.path
    }

    /// The stage name the plugin declares.
    pub fn name(&self) -> &str {
        &self.loaded.name
    }

    /// Whether the plugin is a story stage: its descriptor (stage-api 1.4 or later) has a
    /// `process_story` entry.
    pub fn is_story_stage(&self) -> bool {
        self.loaded.descriptor.process_story.is_some()
    }

    /// The plugin's own version string, for logs.
    pub fn plugin_version(&self) -> &str {
        &self.loaded.plugin_version
    }

    pub(crate) fn descriptor(&self) -> &'static StageV1 {
        self.loaded.descriptor
    }
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library").field("path", &self.loaded.path).field("name", &self.loaded.name).finish()
    }
}

impl PartialEq for Library {
    fn eq(&self, other: &Self) -> bool {
        self.loaded.path == other.loaded.path
    }
}

fn open(path: &Path) -> Result<Loaded, PluginError> {
    // SAFETY: loading a library runs its initialisers; trusting the configured file is the
    // documented contract of in-process plugins.
    let library = unsafe { libloading::Library::new(path) }
        .map_err(|e| PluginError::Open { path: path.to_path_buf(), message: e.to_string() })?;
    // Never unloaded: see the crate docs.
    let library: &'static libloading::Library = Box::leak(Box::new(library));

    // SAFETY: the symbol's type is fixed by the ABI for this name.
    let entry = match unsafe { library.get::<EntryV1>(ENTRY_SYMBOL_V1.as_bytes()) } {
        Ok(entry) => *entry,
        Err(_) => {
            // A plugin for another major exports that major's symbol; name it in the message.
            let found = (2..=16).chain([0]).find(|major| {
                // SAFETY: only probing whether the symbol exists; it is not called.
                unsafe { library.get::<*const ()>(format!("briefd_stage_v{major}").as_bytes()) }.is_ok()
            });
            return Err(PluginError::MissingSymbol {
                path: path.to_path_buf(),
                symbol: ENTRY_SYMBOL_V1.into(),
                found,
                expected: ABI_MAJOR,
            });
        }
    };
    let bad =
        |message: &str| PluginError::BadDescriptor { path: path.to_path_buf(), message: message.into() };
    // SAFETY: the entry function takes nothing and returns a pointer to static data.
    let descriptor = unsafe { entry() };
    if descriptor.is_null() {
        return Err(bad("the entry function returned null"));
    }
    // Read the major alone first: a descriptor of another major may have any other layout.
    // SAFETY: every descriptor of every major starts with the u32 major.
    let found = unsafe { (descriptor as *const u32).read() };
    if found != ABI_MAJOR {
        return Err(PluginError::AbiMismatch { path: path.to_path_buf(), found, expected: ABI_MAJOR });
    }
    // SAFETY: the second field of every v1 descriptor is its u32 size.
    let size = unsafe { (descriptor as *const u32).add(1).read() } as usize;
    if size < STAGE_V1_0_SIZE {
        return Err(bad(&format!(
            "it declares {size} bytes, less than the {STAGE_V1_0_SIZE} of the v1 descriptor"
        )));
    }
    // A descriptor built against an older 1.x is shorter than ours: it is copied field by field,
    // reading only the fields its size covers (no reference to the whole struct is ever made,
    // which would claim bytes past its end), and a field it lacks reads as absent.
    // SAFETY: the major matches and `size` covers every field up to `free_buf`; the fields are
    // read through raw pointers, each inside the plugin's static descriptor.
    let descriptor: &'static StageV1 = unsafe {
        let covers = |offset: usize, field: usize| size >= offset + field;
        let process_story =
            if covers(std::mem::offset_of!(StageV1, process_story), std::mem::size_of::<Option<ProcessFn>>())
            {
                std::ptr::addr_of!((*descriptor).process_story).read()
            } else {
                None
            };
        Box::leak(Box::new(StageV1 {
            abi_major: found,
            struct_size: size as u32,
            name: std::ptr::addr_of!((*descriptor).name).read(),
            plugin_version: std::ptr::addr_of!((*descriptor).plugin_version).read(),
            create: std::ptr::addr_of!((*descriptor).create).read(),
            process: std::ptr::addr_of!((*descriptor).process).read(),
            destroy: std::ptr::addr_of!((*descriptor).destroy).read(),
            free_buf: std::ptr::addr_of!((*descriptor).free_buf).read(),
            process_story,
        }))
    };
    let text = |p: *const std::ffi::c_char| {
        // SAFETY: the ABI promises NUL-terminated static strings (or null).
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    };
    let name = text(descriptor.name).filter(|n| !n.trim().is_empty()).ok_or_else(|| bad("it has no name"))?;
    let plugin_version = text(descriptor.plugin_version).unwrap_or_default();
    Ok(Loaded { path: path.to_path_buf(), descriptor, name, plugin_version })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_refused_by_name() {
        let error = Library::load(Path::new("/no/such/libplugin.so")).unwrap_err();
        assert!(matches!(error, PluginError::Missing { .. }));
        assert!(
            error.to_string().starts_with("/no/such/libplugin.so: no such plugin file; build the plugin"),
            "{error}"
        );
    }

    #[test]
    fn a_file_that_is_not_a_library_is_refused_by_the_loader() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("libtext.so");
        std::fs::write(&path, "not a shared library").unwrap();
        let error = Library::load(&path).unwrap_err();
        assert!(matches!(error, PluginError::Open { .. }), "{error:?}");
        assert!(error.to_string().contains("is it a shared library built for this machine?"), "{error}");
    }
}
