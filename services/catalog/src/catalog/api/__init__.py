"""HTTP routes of the catalog service, one router per aggregate (paths from the service's root; the gateway adds
`/api/catalog`).

Each route parses, authorises, calls the use case and shapes the answer. Provider routes check membership
(catalog's own table) in the use cases: another institution's objects are 404. Agency routes require the
agency roles from the token; routes a provider or learner uses refuse partner systems (`Person`). The public
catalogue needs no token.
"""

from catalog.api import catalogue, groups, programmes, providers

ROUTERS = [providers.router, programmes.router, groups.router, catalogue.router]
