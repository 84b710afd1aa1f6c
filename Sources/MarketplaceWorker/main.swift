import BlytzData
import BlytzServices
import Marketplace

ServiceMain.main(functions: Marketplace.functions, migrations: Marketplace.migrations, setup: ServiceParts.setup)
