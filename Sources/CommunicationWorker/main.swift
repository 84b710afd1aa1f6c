import BlytzServices
import Communication

Communication.main()
