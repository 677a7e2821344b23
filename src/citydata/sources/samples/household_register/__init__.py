"""The embedded household-register delivery (GBK CSV), its builder and the reasons of its rows."""
