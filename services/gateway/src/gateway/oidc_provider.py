"""The OpenID Connect provider's work, behind the routes of `gateway.oidc`: who may sign in, the sign-in page, the
codes, the token endpoint's grant, the federated sign-in's two halves and the sign-out."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from prasmes_runtime.auth import Principal, TokenIssuer, key_id
from prasmes_runtime.logging import get_logger
from prasmes_runtime.roles import LEARNER
from starlette.datastructures import QueryParams

from gateway.identity import DEV_USERS, signing_keys
from gateway.oidc_federation import Federation, FederationFailed, PendingUpstream, federated_subject
from gateway.oidc_pages import Language, Pages, UserChoice
from gateway.oidc_requests import (
    AuthorizationRequest,
    NotRedirectable,
    Redirectable,
    TokenError,
    check_pkce,
    parse_authorization,
)
from gateway.oidc_session import BrowserState, Session, derive_secret, request_digest
from gateway.oidc_tokens import AuthorizationCode, IdentityClaims, OidcSigner, SpentCodes, TokenRefused
from gateway.settings import GatewaySettings, OidcClient

MAX_CODE = 4096
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_DEV_BY_SUBJECT = {user.subject: user for user in DEV_USERS.values()}
log = get_logger(__name__)


@dataclass(frozen=True)
class Person:
    subject: str
    roles: frozenset[str]
    name: str | None = None
    email: str | None = None
    locale: str | None = None

    def claims(self, scope: tuple[str, ...]) -> IdentityClaims:
        profile, email = "profile" in scope, "email" in scope
        return IdentityClaims(
            name=self.name if profile else None,
            email=self.email if email else None,
            locale=self.locale if profile else None,
        )


def redirect(url: str, status: int = 302) -> RedirectResponse:
    return RedirectResponse(url, status_code=status, headers={"Cache-Control": "no-store"})


class OidcProvider:
    def __init__(
        self, settings: GatewaySettings, access_tokens: TokenIssuer, signer: OidcSigner, browser: BrowserState
    ) -> None:
        self.settings = settings
        self.issuer = settings.oidc_issuer
        self.access_tokens = access_tokens
        self.signer = signer
        self.browser = browser
        self.spent = SpentCodes()
        self.pages = Pages()
        self.federation = Federation(settings) if settings.oidc_upstream_issuer else None

    @property
    def clients(self) -> dict[str, OidcClient]:
        return self.settings.oidc_clients

    def person(self, subject: str) -> Person | None:
        """Who a subject signed in here is: a seeded user (in dev mode), else a federated learner."""
        user = _DEV_BY_SUBJECT.get(subject)
        if user is not None:
            if not self.settings.dev_mode:
                return None
            return Person(user.subject, user.roles, user.display_name, user.email, user.language)
        return Person(subject, frozenset({LEARNER})) if self.federation is not None else None

    def error_page(self, language: Language, reason: str, status: int = 400) -> HTMLResponse:
        return self.pages.message(language, "error", reason, status=status)

    def error_redirect(self, error: Redirectable, status: int = 302) -> RedirectResponse:
        log.info("oidc.authorize_refused", client_id=error.request.client_id, error=error.error)
        request = error.request
        return redirect(request.redirect(self.issuer, error=error.error, error_description=error.description), status)

    # --------------------------------------------------------------- the authorization endpoint

    def current_session(self, request: Request, auth: AuthorizationRequest) -> Session | None:
        """The browser's session if it answers `auth` without a new sign-in."""
        session = self.browser.session(request)
        if session is None or "login" in auth.prompt or self.person(session.subject) is None:
            return None
        if auth.max_age is not None and time.time() - session.auth_time > auth.max_age:
            return None
        return session

    def code_redirect(self, auth: AuthorizationRequest, session: Session) -> str:
        code = AuthorizationCode(
            client_id=auth.client_id,
            redirect_uri=auth.redirect_uri,
            code_challenge=auth.code_challenge,
            scope=auth.scope,
            subject=session.subject,
            auth_time=session.auth_time,
            nonce=auth.nonce,
        )
        log.info("oidc.code_issued", client_id=auth.client_id, subject=session.subject)
        return auth.redirect(self.issuer, code=self.signer.issue_code(code, self.settings.oidc_code_ttl_seconds))

    def signed_in(self, auth: AuthorizationRequest, subject: str, status: int) -> RedirectResponse:
        session = self.browser.new_session(subject)
        response = redirect(self.code_redirect(auth, session), status)
        self.browser.keep_session(response, session)
        log.info("oidc.signed_in", client_id=auth.client_id, subject=subject)
        return response

    def sign_in_page(self, request: Request, auth: AuthorizationRequest, language: Language) -> HTMLResponse:
        dev_users = DEV_USERS.values() if self.settings.dev_mode else ()
        users = [UserChoice(u.username, u.display_name, sorted(u.roles)) for u in dev_users]
        if not users and self.federation is None:
            log.warning("oidc.no_sign_in_method", hint="neither DEV_MODE nor OIDC_UPSTREAM_ISSUER is set")
            return self.pages.message(language, "unavailable", "unavailable_text", status=503)
        browser = self.browser.sign_in_binding(request)
        response = self.pages.render(
            "sign_in.html",
            language,
            title="sign_in",
            client_id=auth.client_id,
            fields=auth.fields,
            csrf_token=self.browser.sign_in_token(browser, request_digest(auth.fields)),
            users=users,
            upstream=self.federation is not None,
        )
        self.browser.keep_sign_in_binding(response, browser)
        return response

    async def sign_in(
        self, request: Request, auth: AuthorizationRequest, form: dict[str, str], language: Language
    ) -> RedirectResponse | HTMLResponse:
        """The sign-in page's post: the user chose a seeded user, or the national eID."""
        if not self.browser.check_sign_in_token(request, form.get("csrf_token"), request_digest(auth.fields)):
            log.info("oidc.sign_in_refused", client_id=auth.client_id, reason="csrf token")
            return self.error_page(language, "sign_in_expired")
        method = form.get("method")
        if method == "eid" and self.federation is not None:
            return await self._start_upstream(auth, self.federation)
        if method == "dev" and self.settings.dev_mode:
            user = DEV_USERS.get(form.get("username", ""))
            if user is None:
                return self.error_page(language, "no_user")
            return self.signed_in(auth, user.subject, 303)
        return self.error_page(language, "method_unavailable")

    # --------------------------------------------------------------- federation

    async def _start_upstream(self, auth: AuthorizationRequest, federation: Federation) -> RedirectResponse:
        try:
            url, pending = await federation.start()
        except FederationFailed as exc:
            log.warning("oidc.upstream_unavailable", detail=str(exc))
            return self.error_redirect(Redirectable(exc.error, "the national eID is not available", auth), 303)
        response = redirect(url, 303)
        upstream = {"state": pending.state, "nonce": pending.nonce, "verifier": pending.verifier}
        self.browser.start_upstream(response, {**upstream, "request": auth.fields})
        return response

    async def upstream_callback(self, request: Request, language: Language) -> RedirectResponse | HTMLResponse:
        params, pending = request.query_params, self.browser.upstream(request)
        federation = self.federation
        state = params.get("state", "").encode()
        if federation is None or pending is None or not hmac.compare_digest(state, str(pending.get("state")).encode()):
            return self.error_page(language, "sign_in_expired")
        fields = pending.get("request")
        try:
            auth = parse_authorization(fields.items() if isinstance(fields, dict) else (), self.clients)
        except NotRedirectable as exc:
            return self.error_page(language, exc.reason)
        except Redirectable as exc:
            return self.error_redirect(exc)
        response = await self._finish_upstream(federation, auth, params, pending)
        self.browser.end_upstream(response)
        return response

    async def _finish_upstream(
        self, federation: Federation, auth: AuthorizationRequest, params: QueryParams, pending: dict[str, Any]
    ) -> RedirectResponse:
        code, issuer = params.get("code"), params.get("iss")
        if params.get("error") or not code or (issuer is not None and issuer.rstrip("/") != federation.issuer):
            log.info("oidc.upstream_refused", error=params.get("error", "no code"))
            return self.error_redirect(Redirectable("access_denied", "the national eID sign-in did not end", auth))
        upstream = PendingUpstream(str(pending.get("state")), str(pending.get("nonce")), str(pending.get("verifier")))
        try:
            upstream_subject = await federation.finish(code, upstream)
        except FederationFailed as exc:
            log.warning("oidc.upstream_failed", error=exc.error, detail=str(exc))
            return self.error_redirect(Redirectable(exc.error, "the national eID sign-in could not be verified", auth))
        return self.signed_in(auth, federated_subject(federation.issuer, upstream_subject), 302)

    # --------------------------------------------------------------- the token endpoint

    def redeem(self, client_id: str, form: dict[str, str]) -> dict[str, Any]:
        """The tokens for the authorization code of `form`, to the authenticated client `client_id`."""
        code = self._spend_code(client_id, form)
        check_pkce(form.get("code_verifier"), code.code_challenge)
        person = self.person(code.subject)
        if person is None:
            raise TokenError("invalid_grant", "the code's user is not known here any more")
        access_token = self.access_tokens.issue(person.subject, person.roles)
        id_token = self.signer.issue_id_token(
            code,
            person.claims(code.scope),
            access_token=access_token,
            ttl_seconds=self.settings.oidc_id_token_ttl_seconds,
        )
        log.info("oidc.tokens_issued", client_id=client_id, subject=person.subject)
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": self.access_tokens.ttl_seconds,
            "id_token": id_token,
            "scope": " ".join(code.scope),
        }

    def _spend_code(self, client_id: str, form: dict[str, str]) -> AuthorizationCode:
        grant_type, raw = form.get("grant_type"), form.get("code", "")
        if not grant_type:
            raise TokenError("invalid_request", "grant_type is required")
        if grant_type != "authorization_code":
            raise TokenError("unsupported_grant_type", "only the authorization_code grant is supported")
        if not raw:
            raise TokenError("invalid_request", "code is required")
        try:
            if len(raw) > MAX_CODE:
                raise TokenRefused("it is too long")
            code = self.signer.read_code(raw)
        except TokenRefused as exc:
            log.info("oidc.code_refused", client_id=client_id, reason=str(exc))
            raise TokenError("invalid_grant", "the code is not valid or has expired") from None
        if code.client_id != client_id:
            raise TokenError("invalid_grant", "the code was issued to another client")
        # Spent by the first redemption its client attempts, whether or not the rest of it passes.
        if not self.spent.spend(code.jti, code.expires):
            log.warning("oidc.code_reused", client_id=client_id, subject=code.subject)
            raise TokenError("invalid_grant", "the code has already been used")
        if form.get("redirect_uri") != code.redirect_uri:
            raise TokenError("invalid_grant", "redirect_uri is not the authorization request's")
        return code

    # --------------------------------------------------------------- userinfo and sign-out

    def userinfo(self, principal: Principal) -> dict[str, Any]:
        person = self.person(principal.subject)
        claims: dict[str, Any] = {"sub": principal.subject, "roles": sorted(principal.roles)}
        if person is not None:
            profile = {"name": person.name, "email": person.email, "locale": person.locale}
            claims.update({name: value for name, value in profile.items() if value is not None})
        return claims

    def sign_out(self, params: dict[str, str], language: Language) -> RedirectResponse | HTMLResponse:
        """RP-initiated logout: the session ends whatever the parameters; the browser is sent back only to a URI
        registered for the client the ID token hint (or `client_id`) names."""
        client_id = params.get("client_id")
        hint = params.get("id_token_hint")
        if hint:
            try:
                hinted, _ = self.signer.read_id_token_hint(hint, self.clients)
            except TokenRefused as exc:
                log.info("oidc.logout_hint_refused", reason=str(exc))
                return self.error_page(language, "bad_logout")
            if client_id is not None and client_id != hinted:
                return self.error_page(language, "bad_logout")
            client_id = hinted
        uri = params.get("post_logout_redirect_uri")
        if uri is None:
            return self.pages.message(language, "signed_out", "signed_out_text")
        client = self.clients.get(client_id or "")
        if client is None or uri not in client.post_logout_redirect_uris:
            return self.pages.message(language, "signed_out", "signed_out_text", "not_returned", status=400)
        state = params.get("state")
        return redirect(uri + _query("&" if "?" in uri else "?", state), 302)


def _query(separator: str, state: str | None) -> str:
    return f"{separator}{urlencode({'state': state})}" if state is not None else ""


def build(settings: GatewaySettings, access_tokens: TokenIssuer) -> OidcProvider:
    """The provider, signing with the platform's key under the access tokens' `kid` (one key set verifies both). What
    the retired keys signed (codes, ID token hints, cookies) is still read, as the access tokens they signed are."""
    key, retired = signing_keys(settings)
    kid = key_id(key.public_key())
    if kid != access_tokens.kid:
        raise RuntimeError("the OpenID Connect provider's key is not the access tokens' key")
    signer = OidcSigner(
        key, kid=kid, issuer=settings.oidc_issuer, retired={key_id(k.public_key()): k.public_key() for k in retired}
    )
    secure = settings.oidc_issuer.startswith("https://")
    browser = BrowserState(
        derive_secret(key),
        retired=[derive_secret(k) for k in retired],
        secure=secure,
        session_seconds=settings.oidc_session_seconds,
    )
    return OidcProvider(settings, access_tokens, signer, browser)
