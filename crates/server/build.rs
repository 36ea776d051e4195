// The browser app (web/app) is embedded with `include_dir!`, which cannot
// tell Cargo which files it read; this makes any change there rebuild.
fn main() {
    println!("cargo:rerun-if-changed=../../web/app");
}
