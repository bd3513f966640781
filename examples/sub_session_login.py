"""Log a person in on a sub-session, show their access, and write on their behalf.

`.venv/bin/python examples/sub_session_login.py --login-user demo --login-password demo --value 33`
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from _common import connect_options, parser

from xentara_ws.client import XentaraError, connect


async def main(args: argparse.Namespace) -> int:
    async with connect(args.url, **connect_options(args)) as client:
        try:
            session = await client.create_sub_session(user=args.login_user, password=args.login_password)
        except XentaraError as error:
            print(f"login of {args.login_user} refused: {error.message}")
            return 1
        access = await client.check_access(session)
        print(f"{args.login_user}: read={'yes' if access.read else 'no'} write={'yes' if access.write else 'no'}")
        if args.value is not None and not access.write:
            # Say so rather than skip it silently: the person may not write (e.g. the Operator role).
            print(f"not writing {args.value} to {args.element}: {args.login_user} has no write access")
        elif args.value is not None:
            # Checked against both the connection's and the logged-in person's rights.
            await client.write(args.element, float(args.value), sub_session=session)
            print(f"wrote {args.value} to {args.element} as {args.login_user}")
        await client.close_sub_session(session)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    options = parser(__doc__)
    options.add_argument("--login-user", default="operator", help="the person to log in (default operator)")
    options.add_argument("--login-password", default="operator", help="their password (default operator)")
    options.add_argument(
        "--element", default="Plant.Line.Setpoint", help="register to write (default Plant.Line.Setpoint)"
    )
    options.add_argument("--value", default=None, help="write this value as the logged-in person (optional)")
    return options.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
