//! Rebuilds when a template changes: they are embedded with `include_dir!`.

fn main() {
    println!("cargo:rerun-if-changed=../templates/workspace");
}
