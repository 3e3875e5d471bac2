"""The REST layer shared by the catalog and inventory apps: permissions, pagination, the strict
serializer base and fields, the OpenAPI schema hooks and the one exception handler."""
