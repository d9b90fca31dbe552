"""Root fields per area: validate input, check permission, call domain and db through loaders."""
