//! The sweep's child process, run for real: a spec that generates, one that is refused, and
//! one whose child dies, each read back as such.

use std::path::{Path, PathBuf};

use xtask::sweep::{Outcome, sweep_spec};

fn exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_xtask"))
}

#[test]
fn each_outcome_of_a_child_is_read_back() {
    let root = xtask::codegen::workspace_root();
    let folder = root.join("tests/corpus/fixtures");
    let row = sweep_spec(&exe(), &folder, &folder.join("sweep-constructs.yaml")).unwrap();
    assert!(matches!(row.outcome, Outcome::Generated { operations: 9, .. }), "{row:?}");
    assert_eq!(row.spec, "sweep-constructs.yaml");
    assert!(row.peak > 0);

    let dir = tempfile::tempdir().unwrap();
    let refused = dir.path().join("refused.yaml");
    std::fs::write(
        &refused,
        "openapi: 3.0.3\ninfo: {title: T, version: 1.0.0}\npaths:\n  /a:\n    get:\n      operationId: a\n      \
         responses: {\"200\": {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Gone'}}}}}\n",
    )
    .unwrap();
    let row = sweep_spec(&exe(), dir.path(), &refused).unwrap();
    match &row.outcome {
        Outcome::Refused { reason } => assert!(reason.contains("unresolved reference"), "{reason}"),
        other => panic!("{other:?}"),
    }

    // A child that is not the generator at all and dies of a signal: a crash, never a pass.
    let script = dir.path().join("dies.sh");
    std::fs::write(&script, "#!/bin/sh\nkill -SEGV $$\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let row = sweep_spec(&script, Path::new("/"), &refused).unwrap();
    assert!(matches!(&row.outcome, Outcome::Crashed { reason } if reason.contains("signal 11")), "{row:?}");
}
