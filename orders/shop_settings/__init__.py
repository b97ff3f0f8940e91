"""The dashboard's settings area: who works for the shop (staff, roles, invitations), the keys
its integrations call the API with, and the record of every change made there.

It lives in `orders` because `orders` owns what it changes (`Shop`, `StaffMembership`,
`ApiKey`): the commerce core's tenancy. It is one package, not a module named `settings`
(that name means Django's settings here), holding the area's services (`audit`, `staff`,
`api_keys`, `sender`, `profile`, `integrations`: each change locks its rows and records itself
in the same transaction), its reads (`selectors`) and its pages (`views`, `urls`:
`/dashboard/settings/`, one tab per sub-page, to which other apps add sections through
`sections`: the messaging providers on the integrations tab, the return address on the profile;
`invitation_urls`: the invitee's link, under `/accounts/` beside signing in, since they are
not staff yet). Owners change staff, keys and the sender; managers read them and keep the
shop's profile; agents do not see the area (`postpurchase.permissions.SETTINGS_VIEW`).
"""
