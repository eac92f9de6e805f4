//! The private helpers at the top of the generated file, which the
//! generated `Deserialize` impls call.

use proc_macro2::TokenStream;
use quote::quote;

/// `__field`, `__Bounds`, `__check_bounds`, `__check_const` and
/// `__check_event_type`.
pub(super) fn helpers(rt: &syn::Path) -> TokenStream {
    quote! {
        /// Deserializes one field value, naming the field (and the path
        /// inside it) in the error, in JSON's words.
        #[allow(dead_code)]
        fn __field<T: ::serde::de::DeserializeOwned, E: ::serde::de::Error>(
            name: &str,
            value: ::serde_json::Value,
        ) -> Result<T, E> {
            #rt::__private::field_value(name, value)
        }

        /// Bounds of a field that its Rust type does not carry.
        #[allow(dead_code)]
        struct __Bounds {
            minimum: Option<f64>,
            maximum: Option<f64>,
            exclusive_minimum: Option<f64>,
            exclusive_maximum: Option<f64>,
            min_length: Option<u64>,
            max_length: Option<u64>,
        }

        /// Checks a field's value against its schema's bounds.
        #[allow(dead_code)]
        fn __check_bounds<E: ::serde::de::Error>(
            name: &str,
            value: &::serde_json::Value,
            b: &__Bounds,
        ) -> Result<(), E> {
            #rt::__private::check_bounds(
                name,
                value,
                [b.minimum, b.maximum, b.exclusive_minimum, b.exclusive_maximum],
                [b.min_length, b.max_length],
            )
        }

        /// Checks the value of a `const` property.
        #[allow(dead_code)]
        fn __check_const<E: ::serde::de::Error>(
            name: &str,
            expected: &str,
            value: &::serde_json::Value,
        ) -> Result<(), E> {
            if #rt::__private::const_eq(value, expected) {
                Ok(())
            } else {
                Err(E::custom(format_args!(
                    "field \"{}\": expected {}, found {}",
                    name, expected, value
                )))
            }
        }

        /// Checks the `event_type` value of a typed event.
        #[allow(dead_code)]
        fn __check_event_type<E: ::serde::de::Error>(
            expected: &str,
            value: ::serde_json::Value,
        ) -> Result<(), E> {
            match value.as_str() {
                Some(s) if s == expected => Ok(()),
                _ => Err(E::custom(format_args!(
                    "event_type mismatch: expected \"{}\", found {}",
                    expected, value
                ))),
            }
        }
    }
}
