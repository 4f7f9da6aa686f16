//! `briefd_stage.h` is kept in step with `abi.rs`: a C program built from the header prints every
//! struct's size and each field's offset and size, and they must equal the Rust layout.

use std::fmt::Write as _;
use std::mem::{offset_of, size_of};
use std::path::Path;
use std::process::Command;

use stage_api::abi::{Buf, HostV1, StageV1, Status, ENTRY_SYMBOL_V1};

/// The size of the field a projection points at.
fn field_size<S, F>(_: fn(&S) -> &F) -> usize {
    size_of::<F>()
}

macro_rules! layout {
    ($out:ident, $c_name:literal, $rust:ty, [$($field:ident),* $(,)?]) => {
        writeln!($out, "{} size {}", $c_name, size_of::<$rust>()).unwrap();
        $(
            writeln!(
                $out,
                "{}.{} {} {}",
                $c_name,
                stringify!($field),
                offset_of!($rust, $field),
                field_size(|s: &$rust| &s.$field)
            )
            .unwrap();
        )*
    };
}

/// The C side of the same report.
const C_REPORT: &str = r#"
#include <stdio.h>
#include "briefd_stage.h"
#define SIZE(T) printf(#T " size %zu\n", sizeof(T));
#define FIELD(T, f) printf(#T "." #f " %zu %zu\n", offsetof(T, f), sizeof(((T *)0)->f));
int main(void) {
    SIZE(BriefdBuf) FIELD(BriefdBuf, ptr) FIELD(BriefdBuf, len)
    SIZE(BriefdHostV1) FIELD(BriefdHostV1, abi_major) FIELD(BriefdHostV1, struct_size)
    FIELD(BriefdHostV1, ctx) FIELD(BriefdHostV1, query) FIELD(BriefdHostV1, free_buf)
    SIZE(BriefdStageV1) FIELD(BriefdStageV1, abi_major) FIELD(BriefdStageV1, struct_size)
    FIELD(BriefdStageV1, name) FIELD(BriefdStageV1, plugin_version) FIELD(BriefdStageV1, create)
    FIELD(BriefdStageV1, process) FIELD(BriefdStageV1, destroy) FIELD(BriefdStageV1, free_buf)
    FIELD(BriefdStageV1, process_story)
    printf("major %d\nsymbol %s\nstatus %d %d %d %zu\n", BRIEFD_ABI_MAJOR, BRIEFD_ENTRY_SYMBOL_V1,
           BRIEFD_CONTINUE, BRIEFD_DROP, BRIEFD_FAIL, sizeof(BriefdStatus));
    return 0;
}
"#;

#[test]
fn the_c_header_matches_the_rust_abi() {
    let mut rust = String::new();
    layout!(rust, "BriefdBuf", Buf, [ptr, len]);
    layout!(rust, "BriefdHostV1", HostV1, [abi_major, struct_size, ctx, query, free_buf]);
    layout!(
        rust,
        "BriefdStageV1",
        StageV1,
        [abi_major, struct_size, name, plugin_version, create, process, destroy, free_buf, process_story]
    );
    writeln!(rust, "major {}", stage_api::ABI_MAJOR).unwrap();
    writeln!(rust, "symbol {ENTRY_SYMBOL_V1}").unwrap();
    writeln!(
        rust,
        "status {} {} {} {}",
        Status::CONTINUE.0,
        Status::DROP.0,
        Status::FAIL.0,
        size_of::<Status>()
    )
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("report.c");
    std::fs::write(&source, C_REPORT).unwrap();
    let program = dir.path().join("report");
    let include = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let built = Command::new(&cc)
        .args(["-std=c99", "-Wall", "-Werror", "-I"])
        .arg(include)
        .arg(&source)
        .arg("-o")
        .arg(&program)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {cc:?} (set CC): {e}"));
    assert!(
        built.status.success(),
        "the header does not compile:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let ran = Command::new(&program).output().unwrap();
    assert!(ran.status.success());
    let c = String::from_utf8(ran.stdout).unwrap();
    assert_eq!(c, rust, "briefd_stage.h (left) and abi.rs (right) disagree; update the header");
}
