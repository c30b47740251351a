// The lessons are embedded with include_dir, which cannot tell Cargo about the files it
// reads: rebuild when anything under modules/ changes.
fn main() {
    println!("cargo:rerun-if-changed=modules");
}
