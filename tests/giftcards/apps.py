from django.apps import AppConfig


class GiftCardsConfig(AppConfig):
    name = "tests.giftcards"
    label = "giftcards"

    def ready(self) -> None:
        from postpurchase import message_kinds
        from tests.giftcards import messages

        message_kinds.register(messages.KINDS, app=self.label)
