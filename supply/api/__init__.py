"""The REST layer shared by the catalog and inventory apps: permissions, pagination, the strict
serializer base, the Idempotency-Key handling and the one exception handler."""
