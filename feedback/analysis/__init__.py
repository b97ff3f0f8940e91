"""What customers write, read by the machine.

Every text a customer writes (a survey's "why", a review, a problem report from the tracking
page, a text message, a message in a case) is stored once per source object by
`services.record_text` and scored at once with the shop's current scorer: VADER, or the
shop's own model once it has enough rated texts and beats VADER on them. Nightly,
`services.shop_texts_analyse` retrains the shop's model, rescores what is pending or was scored
by another scorer, finds the topics that set negative texts apart from positive ones and
links each recent text to the topics it mentions.

- `text`: words, the light stemming that folds "lids" into "lid", phrase keys, quotes;
- `scoring`: the two scorers behind one small interface;
- `training`: the shop's model, trained and compared with VADER on held-out texts;
- `topics`: the distinctive phrases (log-odds with an informative Dirichlet prior);
- `services` and `selectors`: the public entry points.
"""
