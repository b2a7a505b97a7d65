"""License service: electronic licenses (电子证照), sealed by the issuing department."""
