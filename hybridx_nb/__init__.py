"""hybridx: predict Entra Connect's first sync for tenants provisioned by Okta, and plan the fixes."""

__version__ = "0.1.0"
