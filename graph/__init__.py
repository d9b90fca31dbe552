"""The GraphQL surface: types, schema, context, dataloaders, extensions and the ASGI app."""
