"""The feedback numbers page: daily rollups per shop and what the page reads of them."""
