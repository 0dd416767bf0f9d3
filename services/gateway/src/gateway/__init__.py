"""The Prasmes API gateway: identity provider, proxy, rate limits and the merged OpenAPI document."""
