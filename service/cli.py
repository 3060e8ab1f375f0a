"""`gclogin`: a thin click layer over the library; library errors become one line on stderr.

Only cheap modules are imported at start-up: a browser login imports its server lazily,
and logging only with --debug, so `gclogin profiles list` and `gclogin users me get`
(cached token) stay light.
"""
from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import click

from .auth_status import has_usable_token, logged_in_as, login_line, status_lines
from .config_store import ConfigStore
from .debug_log import debug
from .environments import DEFAULT_ENVIRONMENT, normalize_environment
from .errors import (AuthorizeRefusedError, GcloginError, InvalidValueError, NetworkError, OAuthError,
                     PortInUseError, shell_arg)
from .logins import (ENV_ACCESS_TOKEN, ENV_CLIENT_SECRET, LoginOptions, Overrides, Resolved, call_with_token,
                    endpoints_for, login, login_and_save, logout, resolve_profile)
from .profile_answers import ProfileAnswersError, profile_from_answers
from .profiles import DEFAULT_PROFILE, GrantType, Profile, build_redirect_uri, format_rfc3339, masked, parse_grant_type
from .mixup import refuse_mixup
from .untrusted import clean_secret

IMPLICIT_WARNING = ("Warning: the implicit grant is deprecated (RFC 9700 §2.1.2); "
                    "prefer the PKCE grant (3). Its token arrives in the URL, which the browser "
                    "writes to its history database where no page can remove it: give the client a "
                    "short token validity (300 s) and run `gclogin logout` (revokes it) after use.")
INVALID_CREDENTIALS = "The credentials provided are not valid."
NOT_SAVED = "Nothing was saved."
PORT_HINT = ("The port must match a redirect URI registered on the OAuth client: http://localhost:PORT "
             "(https://localhost:PORT with a secure connection).")
PORT_ZERO_WARNING = ("Port 0 picks a random port at login time; Genesys matches the port exactly, so this "
                     "works only if the client accepts any port.")
INTERRUPTED = "interrupted (Ctrl-C)"


class CliError(click.ClickException):
    """A library error shown as one line (no traceback) with its exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares a ClassVar; it reads the instance's


class App(click.Group):
    """Every failure below becomes one line on stderr and an exit code, in this one place.

    GcloginError messages are safe to print. Anything else is a bug: its type is shown,
    and with --debug where it happened, but never its message, which might hold a secret.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GcloginError as exc:
            debug("error type: %s", type(exc).__name__)
            raise CliError(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            raise CliError(INTERRUPTED, 130) from None
        except click.Abort as exc:
            # click turns Ctrl-C at a prompt into Abort (exit 1); a login's Ctrl-C exits 130: same here.
            if isinstance(exc.__context__, KeyboardInterrupt):
                raise CliError(INTERRUPTED, 130) from None
            raise
        except (click.ClickException, click.exceptions.Exit):
            raise
        except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into a line
            import traceback
            frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
            debug("unexpected %s (message not shown), raised at:\n%s", type(exc).__name__, frames.rstrip())
            raise CliError(f"unexpected internal error ({type(exc).__name__}); "
                           "run with --debug to see where it happened") from None


class State:
    """Per-invocation settings from the global options."""

    def __init__(self) -> None:
        self.config: str | None = None
        self.profile: str = DEFAULT_PROFILE
        self.profile_given = False
        self.insecure = False
        self.flags: dict[str, str] = {}
        self.warned_secret_flag = False

    def store(self) -> ConfigStore:
        return ConfigStore(self.config, warn=lambda line: click.echo(line, err=True))

    def overrides(self) -> Overrides:
        """gc's global flags (they win over GENESYSCLOUD_* variables and the profile)."""
        return Overrides(**self.flags)

    def warn_secret_flag(self, flag: str, instead: str) -> None:
        """Once per run: a secret in argv can be read by other local users."""
        if not self.warned_secret_flag:
            self.warned_secret_flag = True
            click.echo(f"warning: {flag} puts a secret on the command line, where other local users can "
                       f"read it (ps, /proc); {instead}.", err=True)


pass_state = click.make_pass_decorator(State, ensure=True)


def _set_profile(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        state = ctx.ensure_object(State)
        state.profile = value
        state.profile_given = True


def profile_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """-p/--profile, accepted before or after the command name."""
    return click.option("-p", "--profile", "profile_name", metavar="NAME", expose_value=False,
                        callback=_set_profile, is_eager=True,
                        help="Profile to use (default DEFAULT).")(func)


#: gc's global override flags: (flag, Overrides field, what to use instead if it holds a secret)
OVERRIDE_FLAGS = (
    ("--environment", "environment", None),
    ("--clientid", "client_id", None),
    ("--clientsecret", "client_secret", f"prefer the {ENV_CLIENT_SECRET} environment variable"),
    ("--accesstoken", "access_token", f"prefer the {ENV_ACCESS_TOKEN} environment variable"),
)
_OVERRIDE_HELP = {
    "environment": "Override the profile's environment (domain, region or base URL).",
    "client_id": "Override the profile's OAuth client ID.",
    "client_secret": f"Override the client secret (client credentials). Visible in ps: prefer {ENV_CLIENT_SECRET}.",
    "access_token": f"Use this access token. Visible in ps: prefer {ENV_ACCESS_TOKEN}.",
}


def _set_override(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is None:
        return
    state = ctx.ensure_object(State)
    flag, field_name, instead = next(f for f in OVERRIDE_FLAGS if f[1] == param.name)
    if instead:
        state.warn_secret_flag(flag, instead)
    if not value.strip():
        raise click.BadParameter("must not be empty", param_hint=flag)
    if field_name == "environment":
        value = _environment_choice(value)
    try:
        state.flags[field_name] = clean_secret(flag, value)
    except InvalidValueError as exc:
        raise click.BadParameter(exc.message, param_hint=flag) from None


def override_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """gc's global flags, accepted before or after the command name (REFERENCE §4)."""
    for flag, field_name, _ in reversed(OVERRIDE_FLAGS):
        func = click.option(flag, field_name, metavar="TEXT" if field_name != "environment" else "ENV",
                            expose_value=False, callback=_set_override,
                            help=_OVERRIDE_HELP[field_name])(func)
    return func


def _set_insecure(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(State).insecure = True


def insecure_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """--insecure, accepted after the command name too (the error hint says to pass it)."""
    return click.option("--insecure", is_flag=True, expose_value=False, callback=_set_insecure,
                        help="Allow plain http to a non-loopback environment.")(func)


def login_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--timeout", type=click.FloatRange(min=1), default=300.0, metavar="SECONDS",
                        help="How long to wait for the browser login (default 300).")(func)
    func = click.option("--no-browser", is_flag=True,
                        help="Don't open a browser; just print the login URL.")(func)
    return func


def _echo_err(line: str) -> None:
    click.echo(line, err=True)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """--version, from the installed distribution's metadata (read only when asked)."""
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import PackageNotFoundError, version
    try:
        number = version("gclogin")
    except PackageNotFoundError:
        number = "unknown (the gclogin distribution is not installed)"
    click.echo(f"gclogin {number}")
    ctx.exit()


@click.group(cls=App, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config", metavar="PATH", envvar="GCLOGIN_CONFIG",
              help="config.toml to use (default ~/.gc/config.toml; env GCLOGIN_CONFIG).")
@profile_option
@override_options
@click.option("--insecure", is_flag=True, help="Allow plain http to a non-loopback environment.")
@click.option("--debug", is_flag=True, help="Log requests (method, URL, status) to stderr; never secrets.")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
@click.pass_context
def cli(ctx: click.Context, config: str | None, insecure: bool, debug: bool) -> None:
    """Log in to Genesys Cloud the way `gc` does, safely.

    Overrides win in this order: a flag, then GENESYSCLOUD_REGION,
    GENESYSCLOUD_OAUTHCLIENT_ID, GENESYSCLOUD_OAUTHCLIENT_SECRET,
    GENESYSCLOUD_ACCESS_TOKEN, then the profile.

    \b
    Example:
      gclogin profiles new
      gclogin users me get -p DEFAULT
    """
    state = ctx.ensure_object(State)
    state.config = config
    state.insecure = insecure
    if debug:
        import logging
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
        logger = logging.getLogger("gclogin")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)


# --- profiles -----------------------------------------------------------------------

@cli.group()
def profiles() -> None:
    """Create, show and delete profiles in config.toml.

    \b
    Example:
      gclogin profiles list
    """


@profiles.command("list")
@pass_state
def profiles_list(state: State) -> None:
    """List every profile as JSON (secrets masked).

    A profile that cannot be read is listed with its error (and the exit code is 1);
    the others are listed as usual.

    \b
    Example:
      gclogin profiles list
    """
    shown: list[dict[str, Any]] = []
    errors: list[str] = []
    for name, result in state.store().profile_results().items():
        if isinstance(result, InvalidValueError):
            shown.append({"name": name, "error": str(result)})
            errors.append(str(result))
        else:
            shown.append(masked(result))
    click.echo(json.dumps(shown, indent=2))
    if errors:
        count = "1 profile" if len(errors) == 1 else f"{len(errors)} profiles"
        raise CliError(f"{count} could not be read: {errors[0]}"
                       + (f" (and {len(errors) - 1} more, marked above)" if len(errors) > 1 else ""))


@profiles.command("get", short_help="Show one profile as JSON (secrets masked).")
@click.argument("name", required=False)
@profile_option
@pass_state
def profiles_get(state: State, name: str | None) -> None:
    """Show one profile as JSON (secrets masked); NAME defaults to -p or DEFAULT.

    \b
    Example:
      gclogin profiles get DEFAULT
    """
    click.echo(json.dumps(masked(state.store().get(name or state.profile)), indent=2))


@profiles.command("delete")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Don't ask for confirmation.")
@pass_state
def profiles_delete(state: State, name: str, yes: bool) -> None:
    """Delete profile NAME (other profiles and comments are kept).

    \b
    Example:
      gclogin profiles delete old-org --yes
    """
    store = state.store()
    store.get(name)
    if not yes:
        click.confirm(f"Delete profile {name}?", abort=True)
    store.delete(name)
    click.echo(f"Profile {name} deleted.")


GRANT_MENU = ("Select your authorization grant type.\n"
              "0. None\n1. Client Credentials\n2. Implicit Grant\n3. PKCE Grant")


def _grant_choice(value: str) -> GrantType:
    try:
        return parse_grant_type(value, key="--grant-type")
    except InvalidValueError as exc:
        raise click.BadParameter(exc.message) from None  # click names the option: say it once


def _environment_choice(value: str) -> str:
    try:
        return normalize_environment(value)
    except InvalidValueError as exc:
        raise click.BadParameter(exc.message) from None


def _ask(given: Any, text: str, *, quiet: bool, default: Any = None, flag: str = "",
         hide: bool = False, value_proc: Callable[[str], Any] | None = None,
         type: Any = None, required: bool = True) -> Any:  # noqa: A002
    """Use the flag's value, else prompt (or, with --yes, take the default / fail naming the flag)."""
    if given is not None:
        if not (value_proc and isinstance(given, str)):
            return given
        try:
            return value_proc(given)
        except click.BadParameter as exc:
            if exc.param is None and exc.param_hint is None:
                exc.param_hint = flag  # "Invalid value for --environment: ..."
            raise
    if quiet:
        if default is not None or not required:
            return default if default is not None else ""
        raise click.UsageError(f"{flag} is required with --yes"
                               + (f" (or set {ENV_CLIENT_SECRET}, which stays out of ps)"
                                  if flag == "--client-secret" else ""))
    return click.prompt(text, default=default, hide_input=hide, value_proc=value_proc, type=type,
                        show_default=default not in (None, ""))


def _yes_no(text: str, choices: str = "[Y/N]") -> bool:
    answer = click.prompt(f"{text} {choices}", default="N", show_default=False,
                          type=click.Choice(["Y", "N", "y", "n"]), show_choices=False)
    return answer.upper() == "Y"


@profiles.command("new", short_help="Create a profile (gc's prompts; verified by a login).")
@click.option("--name", metavar="NAME", help="Profile name [DEFAULT].")
@click.option("--environment", metavar="ENV",
              help="Domain, region (e.g. eu-west-1) or base URL [mypurecloud.com].")
@click.option("--access-token", metavar="TOKEN",
              help=f"An access token (no grant, no verification). Visible in ps: prefer the hidden "
                   f"prompt, or {ENV_ACCESS_TOKEN} with --yes --grant-type none.")
@click.option("--grant-type", metavar="GRANT", help="0-3 or none, client-credentials, implicit, pkce.")
@click.option("--client-id", metavar="ID", help="OAuth client ID.")
@click.option("--client-secret", metavar="SECRET",
              help=f"OAuth client secret (client credentials; optional for implicit). Visible in ps: "
                   f"prefer the hidden prompt, or {ENV_CLIENT_SECRET} with --yes.")
@click.option("--redirect-port", type=int, metavar="PORT",
              help="Loopback redirect port; 0 picks a free port [0].")
@click.option("--https/--no-https", "https", default=None, help="Serve the loopback redirect over HTTPS.")
@click.option("--yes", "-y", "quiet", is_flag=True,
              help="Don't prompt: overwrite an existing profile and take defaults for the rest.")
@login_options
@insecure_option
@pass_state
def profiles_new(state: State, name: str | None, environment: str | None, access_token: str | None,
                 grant_type: str | None, client_id: str | None, client_secret: str | None,
                 redirect_port: int | None, https: bool | None, quiet: bool, no_browser: bool,
                 timeout: float) -> None:
    """Create a profile with gc's prompts; credentials are verified by a login before saving.

    \b
    Examples:
      gclogin profiles new
      # non-interactive: the secret comes from GENESYSCLOUD_OAUTHCLIENT_SECRET
      # (set by your CI or secret store), never from the command line
      gclogin profiles new --name ci --environment eu-west-1 \\
          --grant-type client-credentials --client-id ID --yes
    """
    hidden = "leave the flag out to be asked with hidden input"
    if client_secret is not None:
        state.warn_secret_flag("--client-secret", f"{hidden} (with --yes: set {ENV_CLIENT_SECRET})")
    if access_token is not None:
        state.warn_secret_flag("--access-token", f"{hidden} (with --yes: set {ENV_ACCESS_TOKEN})")
    # gc's global flags (gclogin --environment X profiles new) pre-answer the same questions
    environment = environment if environment is not None else state.flags.get("environment")
    client_id = client_id if client_id is not None else state.flags.get("client_id")
    client_secret = client_secret if client_secret is not None else state.flags.get("client_secret")
    access_token = access_token if access_token is not None else state.flags.get("access_token")
    store = state.store()
    existing = store.names()  # also fails early, naming file and line, on a malformed file
    answers: dict[str, Any] = {}

    def check(field: str, flag: str) -> None:
        """The library's rule for this answer (it looks only at the answers asked so far)."""
        try:
            profile_from_answers(answers, existing=existing)
        except ProfileAnswersError as exc:
            if field in exc.errors:
                raise click.BadParameter(exc.errors[field], param_hint=flag) from None

    name = answers["name"] = _ask(name, "Profile Name", quiet=quiet, default=DEFAULT_PROFILE, flag="--name")
    check("name", "--name")
    answers["environment"] = _ask(environment, "Environment", quiet=quiet, default=DEFAULT_ENVIRONMENT,
                                  flag="--environment", value_proc=_environment_choice)
    if access_token is None and quiet and grant_type is not None and _is_none_grant(grant_type):
        access_token = os.environ.get(ENV_ACCESS_TOKEN) or None  # non-interactive, off the command line
    access_token = answers["access_token"] = _ask(access_token, "Access Token (Optional)", quiet=quiet,
                                                  default="", hide=True, required=False, flag="--access-token")
    if grant_type is None and not quiet:
        click.echo(GRANT_MENU)
    grant: GrantType = _ask(grant_type, "Grant type", quiet=quiet,
                            default=None if not quiet else ("0" if access_token else None),
                            flag="--grant-type", value_proc=_grant_choice)
    answers["grant_type"] = grant
    check("grant_type", "--grant-type")
    if grant is GrantType.IMPLICIT:
        click.echo(IMPLICIT_WARNING, err=True)
    if grant is not GrantType.NONE:
        answers["client_id"] = _ask(client_id, "Client ID", quiet=quiet, flag="--client-id")
        check("client_id", "--client-id")
    if grant is GrantType.CLIENT_CREDENTIALS:
        if client_secret is None and quiet:
            client_secret = os.environ.get(ENV_CLIENT_SECRET) or None  # non-interactive, off the command line
        answers["client_secret"] = _ask(client_secret, "Client Secret", quiet=quiet, hide=True,
                                        flag="--client-secret")
        check("client_secret", "--client-secret")
    elif grant is GrantType.IMPLICIT:
        answers["client_secret"] = _ask(client_secret, "Client Secret (Optional)", quiet=quiet,
                                        hide=True, required=False, default="")
    if grant.is_browser:
        port_default = 0
        if redirect_port is None and not quiet:
            _echo_err(PORT_HINT)
            ports, any_port = _known_ports(answers["environment"], grant, answers["client_id"], state.insecure)
            if ports:
                _echo_err(f"The IdP lists this client's loopback redirect ports: {', '.join(map(str, ports))}.")
                port_default = ports[0]
            if any_port:
                _echo_err("The IdP accepts any port on http://localhost for this client.")
        answers["redirect_port"] = _ask(redirect_port, "Redirect URI port", quiet=quiet, default=port_default,
                                        type=int, flag="--redirect-port")
        check("redirect_port", "--redirect-port")
        if answers["redirect_port"] == 0:
            _echo_err(PORT_ZERO_WARNING)
        answers["secure_login"] = https if https is not None else (False if quiet else _yes_no(
            "Would you like to use a secure HTTP connection?"))
        click.echo(f"Redirect URI: {build_redirect_uri(answers['redirect_port'], answers['secure_login'])}")
    extra: dict[str, Any] = {}
    for kind, paths in (("proxy", ("login", "other")), ("gateway", ("login", "api"))):
        if not quiet and _yes_no(f"Would you like to use a {kind} server?"):
            extra.update(_ask_server(kind, paths))
    exists = name in existing
    answers["overwrite"] = quiet or (exists and _yes_no(f"Profile name {name} already exists. Overwrite",
                                                        "(Y/N)"))
    try:
        profile = profile_from_answers(answers, existing=existing)
    except ProfileAnswersError as exc:
        if "overwrite" in exc.errors:
            raise CliError(f"Profile {name} not saved.") from None
        raise  # every other field was checked when it was asked
    profile = replace(profile, insecure=state.insecure, extra=extra)

    if not access_token:
        if profile.grant_type.is_browser:
            refuse_mixup(profile, store.valid_profiles())
        options = LoginOptions(open_browser=not no_browser, timeout=timeout, insecure=state.insecure)
        try:
            token = login(profile, options, echo=_echo_err)
        except AuthorizeRefusedError as exc:
            raise CliError(f"The credentials could not be checked: {exc}. {NOT_SAVED}") from None
        except (OAuthError, NetworkError) as exc:
            raise CliError(verification_failure(exc)) from None
        profile = profile.with_token(token)
    if exists and quiet:
        _echo_err(f"Overwriting profile {name}.")
    store.save(profile)
    click.echo(f"Profile {name} saved.")
    if profile.token_data is not None:
        click.echo(f"{login_line(profile.environment, _who(profile, LoginOptions(insecure=state.insecure)))}.")


def verification_failure(exc: OAuthError | NetworkError) -> str:
    """The one line for a failed verification login: only a refusal blames the credentials."""
    if isinstance(exc, PortInUseError):
        return (f"Port {exc.port} is already in use, so the login's redirect server cannot listen there "
                f"({exc}). Choose another with --redirect-port (0 picks a free one, if the client allows "
                f"any loopback port). {NOT_SAVED}")
    if isinstance(exc, NetworkError):
        return f"The server can't be reached, so the credentials were not checked: {exc}. {NOT_SAVED}"
    if exc.cancelled:
        return f"The login was cancelled at the sign-in page ({exc}). {NOT_SAVED}"
    if exc.rejects_credentials:
        return f"{INVALID_CREDENTIALS} ({exc}) {NOT_SAVED}"
    return f"The credentials could not be checked: the server answered {exc}. {NOT_SAVED}"


def _is_none_grant(value: str) -> bool:
    try:
        return parse_grant_type(value) is GrantType.NONE
    except InvalidValueError:
        return False


def _ask_server(kind: str, paths: tuple[str, str]) -> dict[str, Any]:
    """gc's proxy/gateway questions, stored under gc's keys (gclogin itself doesn't use them)."""
    out: dict[str, Any] = {
        f"{kind}_protocol": click.prompt(f"{kind.title()} protocol", default="https"),
        f"{kind}_host": click.prompt(f"{kind.title()} host"),
        f"{kind}_port": str(click.prompt(f"{kind.title()} port", type=click.IntRange(1, 65535))),
    }
    user = click.prompt(f"{kind.title()} username (Optional)", default="", show_default=False)
    if user:
        out[f"{kind}_username"] = user
        out[f"{kind}_password"] = click.prompt(f"{kind.title()} password", hide_input=True)
    if _yes_no(f"Would you like to set {kind} path parameters?"):
        a = click.prompt(f"{paths[0]} path", default="", show_default=False)
        b = click.prompt(f"{paths[1]} path", default="", show_default=False)
        out[f"{kind}_pathparams"] = f"{{{paths[0]}: {a}, {paths[1]}: {b}}}"
    return out


# --- login / logout -------------------------------------------------------------------

def _resolved(state: State) -> tuple[ConfigStore, Resolved]:
    store = state.store()
    return store, resolve_profile(store, state.profile, flags=state.overrides())


@cli.command("login", short_help="Log in and cache the token in the profile.")
@profile_option
@override_options
@insecure_option
@login_options
@pass_state
def login_command(state: State, no_browser: bool, timeout: float) -> None:
    """Log in with the profile's grant and cache the token in the profile.

    \b
    Example:
      gclogin login -p DEFAULT --no-browser
    """
    store, resolved = _resolved(state)
    options = LoginOptions(open_browser=not no_browser, timeout=timeout, insecure=state.insecure)
    try:
        token = login_and_save(store, resolved, options, echo=_echo_err)
    except PortInUseError as exc:
        raise CliError(f"{exc}. To give the profile another port (0 picks a free one, if the client allows "
                       f"any loopback port): gclogin profiles new --name {shell_arg(resolved.profile.name)} "
                       "--redirect-port PORT") from None
    until = format_rfc3339(token.expiry) if token.expiry else "unknown"
    profile = resolved.profile.with_token(token)
    who = _who(profile, LoginOptions(insecure=state.insecure))
    click.echo(f"{login_line(profile.environment, who)}; the token is valid until {until} "
               f"(profile {profile.name}).")


def _known_ports(environment: str, grant: GrantType, client_id: str,
                 insecure: bool) -> tuple[tuple[int, ...], bool]:
    """The client's redirect ports, for the port question, when the IdP can tell. Only an
    environment given as a URL is asked (a mock; the prompt waits at most
    PORT_PROBE_TIMEOUT): a Genesys domain is a real org, which never tells."""
    from .environments import resolve
    from .preflight import client_ports

    if not environment.lower().startswith(("http://", "https://")):
        return (), False
    try:
        endpoints = resolve(environment, insecure=insecure)
    except GcloginError:
        return (), False
    return client_ports(grant, client_id, endpoints)


def _who(profile: Profile, options: LoginOptions) -> str:
    """Who the profile's token belongs to: users/me for a user token (never raises)."""
    if not has_usable_token(profile) or (profile.grant_type is GrantType.CLIENT_CREDENTIALS
                                         and not profile.access_token):
        return logged_in_as(profile, None)
    from . import api
    token = profile.access_token or (profile.token_data.access_token if profile.token_data else "")
    try:
        me = api.get_users_me(endpoints_for(profile, options.insecure), token, timeout=10)
    except GcloginError as exc:
        return logged_in_as(profile, None, problem=str(exc))
    return logged_in_as(profile, me if isinstance(me, dict) else None, problem="unexpected users/me answer")


# --- auth status / auth token -------------------------------------------------------

@cli.group()
def auth() -> None:
    """Which profiles are logged in, and their tokens for scripts.

    \b
    Example:
      gclogin auth status
      curl -H "Authorization: Bearer $(gclogin auth token -p DEFAULT)" ...
    """


@auth.command("status", short_help="Show each profile's environment, grant, user and token expiry.")
@profile_option
@override_options
@insecure_option
@pass_state
def auth_status(state: State) -> None:
    """Show every profile (or the one given with -p): environment, grant, who the token
    belongs to (GET /api/v2/users/me, or "client credentials"), token expiry, and where
    each value came from (profile, flag or GENESYSCLOUD_* variable). Nothing is changed.

    \b
    Example:
      gclogin auth status
      gclogin auth status -p DEFAULT
    """
    store = state.store()
    flags = dict(state.flags)
    options = LoginOptions(insecure=state.insecure)
    overridden = bool(state.overrides().over(Overrides.from_env(os.environ)))
    names = [state.profile] if state.profile_given or overridden else store.names()
    if not names:
        raise CliError(f"No profiles in {store.path}: create one with gclogin profiles new")
    blocks = []
    for name in names:
        resolved = resolve_profile(store, name, flags=state.overrides())
        who = _who(resolved.profile, options)
        blocks.append("\n".join(status_lines(resolved.profile, flags=flags, env=os.environ, who=who)))
    click.echo("\n\n".join(blocks))


@auth.command("token", short_help="Print the profile's access token alone (for scripts).")
@profile_option
@override_options
@insecure_option
@click.option("--force", is_flag=True, help="Print the token even when stdout is a terminal.")
@pass_state
def auth_token(state: State, force: bool) -> None:
    """Print the access token alone: a given one, the cached one, or (client credentials)
    a new one from a login. A browser-grant profile without a valid token asks you to run
    gclogin login first. Refuses to print to a terminal, where the token would stay in the
    scrollback, unless --force.

    \b
    Example:
      curl -H "Authorization: Bearer $(gclogin auth token -p DEFAULT)" https://api.mypurecloud.com/api/v2/users/me
    """
    if not force and _stdout_is_terminal():
        raise CliError("refusing to print an access token to a terminal, where it would stay in the "
                       "scrollback: use it in a pipe or $(gclogin auth token), or pass --force")
    store, resolved = _resolved(state)
    token = call_with_token(store, resolved, lambda _endpoints, access_token: access_token,
                            LoginOptions(insecure=state.insecure), echo=_echo_err)
    click.echo(token)


def _stdout_is_terminal() -> bool:
    try:
        return bool(sys.stdout.isatty())
    except (AttributeError, ValueError):
        return False


@cli.command("logout", short_help="Revoke the profile's token and forget it.")
@profile_option
@override_options
@insecure_option
@pass_state
def logout_command(state: State) -> None:
    """Revoke the profile's token on the server (DELETE /api/v2/tokens/me) and forget it.

    \b
    Example:
      gclogin logout -p DEFAULT
    """
    store, resolved = _resolved(state)
    if logout(store, resolved, LoginOptions(insecure=state.insecure)):
        click.echo(f"Logged out of profile {resolved.profile.name}.")
    elif resolved.persist and resolved.profile.token_error:
        click.echo(f"Dropped the unreadable cached token of profile {resolved.profile.name}.")
    else:
        click.echo(f"Profile {resolved.profile.name} has no token to revoke.")


# --- users me get ---------------------------------------------------------------------

@cli.group()
def users() -> None:
    """Genesys Cloud users.

    \b
    Example:
      gclogin users me get
    """


@users.group("me")
def users_me() -> None:
    """The user the token belongs to.

    \b
    Example:
      gclogin users me get -p DEFAULT
    """


@users_me.command("get", short_help="Print GET /api/v2/users/me as JSON.")
@profile_option
@override_options
@insecure_option
@pass_state
def users_me_get(state: State) -> None:
    """Print GET /api/v2/users/me as JSON (needs a user token: implicit, PKCE or an access token).

    \b
    Example:
      gclogin users me get -p DEFAULT
    """
    from . import api
    store, resolved = _resolved(state)
    me = call_with_token(store, resolved, lambda ep, token: api.get_users_me(ep, token),
                         LoginOptions(insecure=state.insecure), echo=_echo_err)
    click.echo(json.dumps(me, indent=2))


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        cli.main(args=argv, prog_name="gclogin")
    finally:
        # The process is about to exit: spare it the interpreter's final garbage collections
        # over every imported module's objects (tens of ms after a browser login). Files are
        # closed and flushed by then (config writes are fsynced; stdio is flushed at exit).
        gc.freeze()


if __name__ == "__main__":
    main()
