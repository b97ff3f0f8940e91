"""The project's URLs without the template editor: the messaging pages must not depend on it."""

from tests.notifications.template_editor_urls import without_editor

urlpatterns = without_editor
