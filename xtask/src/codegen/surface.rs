//! The snapshots of the workspace's specs' surface (`squared_codegen::surface`): a spec change
//! shows up here as a reviewable diff (`cargo insta review`).

#[cfg(test)]
mod tests {
    use squared_codegen::{model, surface::render};

    use crate::codegen::{TARGETS, workspace_root};

    fn surface(index: usize) -> String {
        let spec_text = std::fs::read_to_string(workspace_root().join(TARGETS[index].spec)).unwrap();
        render(&model::load(&spec_text).unwrap())
    }

    #[test]
    fn api_surface() {
        insta::assert_snapshot!(surface(0));
    }

    #[test]
    fn constructs_surface() {
        insta::assert_snapshot!(surface(1));
    }
}
