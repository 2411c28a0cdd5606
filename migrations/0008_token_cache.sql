-- Verified bearer tokens, so a token's signature is checked once per five
-- minutes rather than on every request (ES256 verification costs
-- milliseconds in Wasm). Keyed by SHA-256 of the configuration and the
-- token; a row is used only until `cache_until` (never past the token's
-- `exp`), and expired rows are removed a few at a time as new ones arrive.
CREATE TABLE auth_token_cache (
    digest      TEXT PRIMARY KEY,
    token       TEXT NOT NULL,       -- the verified claims, JSON
    cache_until INTEGER NOT NULL     -- ms since the epoch
);

CREATE INDEX auth_token_cache_expiry ON auth_token_cache (cache_until);
