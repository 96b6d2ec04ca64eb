"""Analytics (issue 20): Centra's orders, returns, stock and in-deliveries in DuckDB or
PostgreSQL, loaded by dlt through the store's Integration API client.

:mod:`.rows` turns the client's typed models into flat rows and applies the store's
schema mapping; :mod:`.source` is the dlt source and :func:`.source.sync_store` one load.
"""
