import BlytzServices
import Marketplace

Marketplace.main()
