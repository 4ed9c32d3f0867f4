//! Facades over the aws-sdk-* clients: spec to request translation and error classification.
//! The controller never looks at raw SDK errors; it sees an [`ErrorClass`].

pub mod analytics;
pub mod call;
pub mod errors;
pub mod firehose;
pub mod iam;
pub mod kinesis;
pub mod rate_limit;

pub use errors::{AwsCallError, ErrorClass};

/// A service's facade as the operator's deletion flow sees an AWS resource it tags with its
/// owner (`crate::controller::runtime::ownership::delete_own`): its state, tags and deletion.
pub trait OwnedResource: Sync {
    /// What Describe shows of the resource.
    type View: Send;
    /// The delete operation, for the event that reports it (`DeleteStream`).
    const DELETE_OPERATION: &'static str;

    /// The resource named `name`, or `None` when it does not exist.
    fn state<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Future<Output = Result<Option<Self::View>, AwsCallError>> + Send + 'a;

    /// Whether AWS is deleting it already.
    fn is_deleting(view: &Self::View) -> bool;

    /// Its tags.
    fn owner_tags<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Future<Output = Result<std::collections::BTreeMap<String, String>, AwsCallError>> + Send + 'a;

    /// Deletes it; one already gone is not an error.
    fn remove<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Future<Output = Result<(), AwsCallError>> + Send + 'a;

    /// The operation that adds or overwrites tags, for events (`AddTagsToStream`).
    const TAG_OPERATION: &'static str;
    /// The operation that removes tags, for events (`RemoveTagsFromStream`).
    const UNTAG_OPERATION: &'static str;

    /// Adds (or overwrites) `tags`.
    fn add_tags<'a>(
        &'a self,
        name: &'a str,
        tags: &'a std::collections::BTreeMap<String, String>,
    ) -> impl Future<Output = Result<(), AwsCallError>> + Send + 'a;

    /// Removes the tags `keys`.
    fn remove_tags<'a>(
        &'a self,
        name: &'a str,
        keys: &'a [String],
    ) -> impl Future<Output = Result<(), AwsCallError>> + Send + 'a;
}

/// Implements [`OwnedResource`] for a facade whose own `describe`, `tags`, `tag`, `untag` and
/// `delete` serve it, with the view type and the delete, tag and untag operations' names.
macro_rules! owned_resource {
    ($api:ty, $view:ty, $delete:literal, $tag:literal, $untag:literal) => {
        impl $crate::aws::OwnedResource for $api {
            type View = $view;
            const DELETE_OPERATION: &'static str = $delete;
            const TAG_OPERATION: &'static str = $tag;
            const UNTAG_OPERATION: &'static str = $untag;

            fn add_tags<'a>(
                &'a self,
                name: &'a str,
                tags: &'a std::collections::BTreeMap<String, String>,
            ) -> impl Future<Output = Result<(), AwsCallError>> + Send + 'a {
                self.tag(name, tags)
            }

            fn remove_tags<'a>(
                &'a self,
                name: &'a str,
                keys: &'a [String],
            ) -> impl Future<Output = Result<(), AwsCallError>> + Send + 'a {
                self.untag(name, keys)
            }

            fn state<'a>(
                &'a self,
                name: &'a str,
            ) -> impl Future<Output = Result<Option<$view>, AwsCallError>> + Send + 'a {
                self.describe(name)
            }

            fn is_deleting(view: &$view) -> bool {
                view.status == "DELETING"
            }

            fn owner_tags<'a>(
                &'a self,
                name: &'a str,
            ) -> impl Future<
                Output = Result<std::collections::BTreeMap<String, String>, AwsCallError>,
            > + Send
            + 'a {
                self.tags(name)
            }

            fn remove<'a>(
                &'a self,
                name: &'a str,
            ) -> impl Future<Output = Result<(), AwsCallError>> + Send + 'a {
                self.delete(name)
            }
        }
    };
}
pub(crate) use owned_resource;
