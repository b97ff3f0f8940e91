"""The frames every page is drawn in, and nothing of any app's own.

The dashboard's: its layout (`templates/shell/dashboard.html`), the navigation each app adds
its section to (`nav`), breadcrumbs, and the base views that find the staff member's current
shop and enforce the staff permission policy (`staff`; the shop lookups themselves are filled
in by the app that owns shops, `shops`). The customer pages': their layout
(`templates/shell/customer.html`) and the headers every one of them sends (`customer`).
"""
